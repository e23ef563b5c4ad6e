from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
