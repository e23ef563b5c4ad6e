"""Calls the OpenAI-compatible endpoints: the primary, then LLM_FALLBACKS, each behind a breaker.

Within one endpoint tenacity retries transient failures (timeouts, connection errors, 429, 5xx)
with backoff and jitter, honouring Retry-After. A call that still fails counts against that
endpoint's breaker and the next endpoint is tried. When every endpoint failed or is open, the
last error is raised, mapped to our error shape; the task runner may then answer offline.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from redis.asyncio import Redis
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from backend.core.config import LLMEndpoint, Settings
from backend.core.errors import (
    AppError,
    RateLimited,
    ServiceUnavailable,
    UpstreamError,
    UpstreamTimeout,
)
from backend.llm.breaker import CircuitBreaker
from backend.llm.retry import is_retryable, retry_after_seconds, wait_retry_after_or_backoff
from backend.llm.schemas import ChatMessage, Completion
from backend.observability.metrics import LLM_CALL_SECONDS, LLM_FALLBACKS, LLM_RETRIES

logger = logging.getLogger(__name__)


class CircuitOpen(ServiceUnavailable):
    code = "llm_circuit_open"


@dataclass
class _Upstream:
    config: LLMEndpoint
    client: AsyncOpenAI
    breaker: CircuitBreaker

    @property
    def name(self) -> str:
        return self.config.name


class _CallFailed(Exception):
    """One endpoint's call failed for good (after its retries)."""

    def __init__(self, error: AppError, *, counts_against_breaker: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.counts_against_breaker = counts_against_breaker


class LLMGateway:
    """One client and one breaker per endpoint, created in the lifespan and closed with it."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self._settings = settings
        self._upstreams = [
            _Upstream(
                config=endpoint,
                client=AsyncOpenAI(
                    api_key=endpoint.api_key,
                    base_url=str(endpoint.base_url) if endpoint.base_url else None,
                    timeout=settings.openai_timeout,
                    max_retries=0,  # tenacity owns retries, so the count and backoff are ours
                ),
                breaker=CircuitBreaker(
                    endpoint.name,
                    failures=settings.openai_breaker_failures,
                    cooldown=settings.openai_breaker_cooldown,
                    probe_timeout=settings.openai_timeout,
                    redis=redis,
                    prefix=settings.redis_key_prefix,
                ),
            )
            for endpoint in settings.llm_endpoints
        ]
        if not self._upstreams:
            raise ValueError("LLMGateway needs at least one endpoint (OPENAI_* settings)")

    @property
    def endpoint(self) -> LLMEndpoint:
        return self._upstreams[0].config

    @property
    def model(self) -> str:
        return self.endpoint.model

    @property
    def endpoint_names(self) -> list[str]:
        return [upstream.name for upstream in self._upstreams]

    async def aclose(self) -> None:
        for upstream in self._upstreams:
            await upstream.client.close()

    async def breaker_states(self) -> dict[str, str]:
        """`closed` or `open` per endpoint, for /ready."""
        return {
            upstream.name: "open" if await upstream.breaker.retry_after() > 0 else "closed"
            for upstream in self._upstreams
        }

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        json_output: bool = False,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        extra: dict[str, Any] = {"max_tokens": max_tokens or self._settings.openai_max_tokens}
        if json_schema is not None:
            extra["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        elif json_output:
            extra["response_format"] = {"type": "json_object"}

        last_error: AppError | None = None
        skipped: list[str] = []
        previous: str | None = None
        for upstream in self._upstreams:
            if previous is not None:
                LLM_FALLBACKS.labels(previous, upstream.name).inc()
                logger.warning(
                    "llm fallback", extra={"from_endpoint": previous, "to_endpoint": upstream.name}
                )
            previous = upstream.name
            if not await upstream.breaker.allow():
                skipped.append(upstream.name)
                continue
            try:
                completion = await self._call(upstream, messages, extra)
            except _CallFailed as failed:
                if failed.counts_against_breaker:
                    await upstream.breaker.record_failure()
                last_error = failed.error
                continue
            await upstream.breaker.record_success()
            return completion

        if last_error is not None:
            if skipped:
                last_error.details.setdefault("skipped_open_endpoints", skipped)
            raise last_error
        wait = min([await u.breaker.retry_after() for u in self._upstreams] or [1.0])
        raise CircuitOpen(
            "The LLM is failing and calls to it are paused for a moment; try again shortly.",
            details={"open_endpoints": skipped},
            headers={"Retry-After": str(max(1, round(wait)))},
        )

    async def _call(
        self, upstream: _Upstream, messages: list[ChatMessage], extra: dict[str, Any]
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
        attempts = 0
        started = time.perf_counter()
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts > 1:
                        LLM_RETRIES.labels(upstream.name).inc()
                    # The client's generic `post`: same transport, auth and error types as
                    # `chat.completions.create`, without re-validating our already-typed
                    # request body (that transform was the largest cost in the miss path).
                    response = await upstream.client.post(
                        "/chat/completions",
                        body={
                            "model": upstream.config.model,
                            "messages": list(messages),
                            "temperature": settings.openai_temperature,
                            **extra,
                        },
                        cast_to=ChatCompletion,
                    )
        except openai.OpenAIError as exc:
            self._observe(upstream, started, "error")
            raise _CallFailed(
                self._map_error(upstream, exc, attempts),
                counts_against_breaker=is_retryable(exc),
            ) from exc
        self._observe(upstream, started, "ok")
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        usage = response.usage
        return Completion(
            text=text.strip(),
            model=response.model or upstream.config.model,
            endpoint=upstream.name,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            attempts=attempts,
        )

    @staticmethod
    def _observe(upstream: _Upstream, started: float, outcome: str) -> None:
        LLM_CALL_SECONDS.labels(upstream.name, upstream.config.model, outcome).observe(
            time.perf_counter() - started
        )

    def _map_error(self, upstream: _Upstream, exc: openai.OpenAIError, attempts: int) -> AppError:
        details: dict[str, Any] = {"attempts": attempts, "endpoint": upstream.name}
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
