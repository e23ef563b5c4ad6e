from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.core.types import NON_BLANK, ChatId


class HistoryItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    chat_id: int | None
    task: str
    input_text: str
    output_text: str
    result: dict[str, Any]
    options: dict[str, Any]
    language: str | None
    model: str
    cached: bool
    degraded: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    duration_ms: int


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: ChatId
    question: str = Field(min_length=1, max_length=1000, pattern=NON_BLANK)


class AskFilterOut(BaseModel):
    """The filter the question was read as (the scope, your key and chat_id, is implied)."""

    task: str | None
    since: datetime | None
    until: datetime | None
    limit: int
    order: Literal["desc", "asc"]
    contains: str | None
    source: Literal["llm", "rules"] = Field(
        description="Who read the question: the LLM, or the built-in rules (no LLM, or it failed)."
    )


class AskOut(BaseModel):
    filter: AskFilterOut
    items: list[HistoryItem]
    answer: str
