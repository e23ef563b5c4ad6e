"""Counts what one task request spent across all its LLM calls (a map-reduce makes several)."""

from __future__ import annotations

from typing import Any

from backend.llm.schemas import ChatMessage, Completion, LLMClient


class MeteredLLM:
    def __init__(self, inner: LLMClient) -> None:
        self._inner = inner
        self.calls = 0
        self.attempts = 0
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.last_model: str | None = None
        self.last_endpoint: str | None = None

    @property
    def model(self) -> str:
        return self._inner.model

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        json_output: bool = False,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        completion = await self._inner.complete(
            messages, json_output=json_output, json_schema=json_schema, max_tokens=max_tokens
        )
        self.calls += 1
        self.attempts += completion.attempts
        self.prompt_tokens = _add(self.prompt_tokens, completion.prompt_tokens)
        self.completion_tokens = _add(self.completion_tokens, completion.completion_tokens)
        self.last_model = completion.model
        self.last_endpoint = completion.endpoint
        return completion


def _add(total: int | None, more: int | None) -> int | None:
    if more is None:
        return total
    return (total or 0) + more
