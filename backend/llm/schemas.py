from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict


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


class LLMClient(Protocol):
    """What a task sees of the LLM: one `complete` call (retries, breaker, fallbacks and metering
    happen behind it)."""

    @property
    def model(self) -> str: ...

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        json_output: bool = False,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Completion: ...
