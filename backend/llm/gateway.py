"""Calls the configured OpenAI-compatible endpoint with retries and maps failures to our errors."""

from __future__ import annotations

import logging
from typing import Any

import openai
from openai import AsyncOpenAI
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from backend.core.config import LLMEndpoint, Settings
from backend.core.errors import AppError, RateLimited, UpstreamError, UpstreamTimeout
from backend.llm.retry import is_retryable, retry_after_seconds, wait_retry_after_or_backoff
from backend.llm.schemas import ChatMessage, Completion

logger = logging.getLogger(__name__)


class LLMGateway:
    """One client per endpoint, created in the lifespan and closed with it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.endpoint: LLMEndpoint = settings.primary_llm
        self._client = AsyncOpenAI(
            api_key=self.endpoint.api_key,
            base_url=str(self.endpoint.base_url) if self.endpoint.base_url else None,
            timeout=settings.openai_timeout,
            max_retries=0,  # tenacity owns retries, so the count and the backoff are ours
        )

    @property
    def model(self) -> str:
        return self.endpoint.model

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        json_output: bool = False,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        settings = self._settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.openai_max_retries + 1),
            wait=wait_retry_after_or_backoff(
                settings.openai_retry_delay_base,
                settings.openai_retry_delay_max,
                settings.openai_retry_jitter,
            ),
            retry=retry_if_exception(is_retryable),
            reraise=True,
        )
        extra: dict[str, Any] = {}
        if json_schema is not None:
            extra["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        elif json_output:
            extra["response_format"] = {"type": "json_object"}
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    response = await self._client.chat.completions.create(
                        model=self.endpoint.model,
                        messages=list(messages),  # type: ignore[arg-type]
                        temperature=settings.openai_temperature,
                        max_tokens=max_tokens or settings.openai_max_tokens,
                        **extra,
                    )
        except openai.OpenAIError as exc:
            raise self._map_error(exc, attempts) from exc
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        usage = response.usage
        return Completion(
            text=text.strip(),
            model=response.model or self.endpoint.model,
            endpoint=self.endpoint.name,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            attempts=attempts,
        )

    def _map_error(self, exc: openai.OpenAIError, attempts: int) -> AppError:
        details: dict[str, Any] = {"attempts": attempts, "endpoint": self.endpoint.name}
        logger.warning("llm call failed", extra={"error": type(exc).__name__, **details})
        if isinstance(exc, openai.APITimeoutError):
            return UpstreamTimeout(
                f"The LLM did not answer within {self._settings.openai_timeout:g} s.",
                details=details,
            )
        if isinstance(exc, openai.RateLimitError):
            wait = retry_after_seconds(exc) or self._settings.openai_retry_delay_max
            return RateLimited(
                "The LLM provider is rate limiting us; try again later.",
                code="llm_rate_limited",
                details=details,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        if isinstance(exc, openai.APIStatusError):
            details["upstream_status"] = exc.status_code
            return UpstreamError(
                f"The LLM provider answered with an error (HTTP {exc.status_code}).",
                details=details,
            )
        if isinstance(exc, openai.APIConnectionError):
            return UpstreamError("Could not connect to the LLM provider.", details=details)
        return UpstreamError("The LLM call failed.", details=details)
