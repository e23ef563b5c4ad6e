from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str = Field(min_length=1, max_length=32, description="A task name or alias.")


class ModeOut(BaseModel):
    chat_id: int
    mode: str | None
