from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    """What one successful upstream call produced."""

    text: str
    model: str
    endpoint: str
    prompt_tokens: int | None
    completion_tokens: int | None
    attempts: int
