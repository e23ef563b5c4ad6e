"""Runs one task request: cache → coalescing → LLM (or the offline engine) → history.

The HTTP routes, the Spanish compatibility endpoints, the bot and the job worker all call
`TaskRunner.run`, so caching, coalescing, retries, budgets and history behave the same everywhere.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.cache.backend import Cache
from backend.core.config import Settings
from backend.core.errors import AppError, PayloadTooLarge, PaymentRequired, Unprocessable
from backend.history.models import HistoryRecord
from backend.history.recorder import HistoryRecorder
from backend.llm.gateway import LLMGateway
from backend.llm.metered import MeteredLLM
from backend.observability.metrics import (
    CACHE_LOOKUPS,
    COALESCED,
    COST_USD,
    LLM_FALLBACKS,
    TASK_REQUESTS,
    TOKENS,
)
from backend.offline.language import detect_language
from backend.tasks.base import HistoryReader, LLMUnavailable, Task, TaskContext, TaskLimits
from backend.tasks.coalescing import Coalescer
from backend.usage.service import month_to_date_cost

OFFLINE_MODEL = "offline"
# Language detection is statistical; the first few thousand characters are plenty.
LANGUAGE_SAMPLE_CHARS = 2000
# LLM failures after which a task with an offline engine answers degraded instead of failing.
# A malformed answer (llm_bad_output) is not one: the LLM is up, and hiding it would hide a bug.
DEGRADABLE_CODES = frozenset({"llm_error", "llm_timeout", "llm_rate_limited", "llm_circuit_open"})


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    id: uuid.UUID
    task: str
    result: BaseModel
    output: str
    language: str | None
    model: str
    cached: bool
    degraded: bool
    usage: Usage | None
    duration_ms: int
    created_at: datetime
    coalesced: bool = False
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a computation produced; also what the cache and coalesced waiters receive."""

    result: BaseModel
    model: str
    language: str | None
    degraded: bool = False
    usage: Usage | None = None
    endpoint: str | None = None
    attempts: int = 0


class TaskRunner:
    def __init__(
        self,
        settings: Settings,
        cache: Cache,
        llm: LLMGateway | None,
        recorder: HistoryRecorder,
        *,
        coalescer: Coalescer | None = None,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        history_reader: HistoryReader | None = None,
    ) -> None:
        self._settings = settings
        self._cache = cache
        self._llm = llm
        self._recorder = recorder
        self._coalescer = coalescer or Coalescer(None, settings.redis_key_prefix, 60.0)
        self._sessionmaker = sessionmaker
        self._history_reader = history_reader
        self._limits = TaskLimits.from_settings(settings)
        # Settings that change answers are part of every cache key.
        self._config_salt = f"{settings.llm_context_tokens}:{settings.llm_structured_output}"

    @property
    def model(self) -> str:
        return self._llm.model if self._llm else OFFLINE_MODEL

    async def run(
        self,
        task: Task[Any, Any],
        text: str,
        options: BaseModel,
        *,
        api_key_id: int,
        chat_id: int | None = None,
        read_cache: bool = True,
        budget_usd: float | None = None,
    ) -> TaskOutcome:
        """Answer one request. `read_cache=False` (Cache-Control: no-cache) skips both the stored
        answer and coalescing; `budget_usd` is the key's monthly budget (402 once spent)."""
        try:
            outcome = await self._run(
                task, text, options, api_key_id, chat_id, read_cache, budget_usd
            )
        except AppError as exc:
            TASK_REQUESTS.labels(task.name, exc.code, "false", "false").inc()
            raise
        TASK_REQUESTS.labels(task.name, "ok", _flag(outcome.cached), _flag(outcome.degraded)).inc()
        return outcome

    async def _run(
        self,
        task: Task[Any, Any],
        text: str,
        options: BaseModel,
        api_key_id: int,
        chat_id: int | None,
        read_cache: bool,
        budget_usd: float | None,
    ) -> TaskOutcome:
        started = time.perf_counter()
        created_at = datetime.now(UTC)
        text = self._check_text(text)
        # Answers that depend on more than text and options (a report reads the history as it
        # is now) are never cached nor shared between requests.
        shareable = task.cacheable
        read_cache = read_cache and shareable
        salt = f"{self._config_salt}:{task.cache_salt(created_at)}"
        key = cache_key(task, options, text, self.model, salt)

        answer = await self._read_cache(task, key) if read_cache else None
        if shareable:
            CACHE_LOOKUPS.labels(task.name, "hit" if answer else "miss").inc()
        cached, coalesced = answer is not None, False
        if answer is None:
            await self._check_budget(api_key_id, budget_usd, created_at)
            ctx = TaskContext(
                language=detect_language(text[:LANGUAGE_SAMPLE_CHARS]),
                now=created_at,
                api_key_id=api_key_id,
                chat_id=chat_id,
                history=self._history_reader,
                limits=self._limits,
            )

            async def compute() -> str:
                computed = await self._compute(task, text, options, ctx)
                payload = _dump(computed)
                ttl = self._settings.cache_ttl_for(task.name)
                if computed.degraded:
                    ttl = min(ttl, self._settings.degraded_cache_ttl)
                if shareable:
                    await self._cache.set(key, payload, ttl)
                return payload

            if read_cache:
                payload, coalesced = await self._coalescer.run(key, compute)
            else:
                payload = await compute()
            answer = _load(task, payload, own=not coalesced)
            if coalesced:
                COALESCED.labels(task.name).inc()

        cost = self._cost(answer)
        outcome = TaskOutcome(
            id=uuid.uuid4(),
            task=task.name,
            result=answer.result,
            output=task.render(answer.result),
            language=answer.language,
            model=answer.model,
            cached=cached,
            degraded=answer.degraded,
            usage=answer.usage,
            duration_ms=round((time.perf_counter() - started) * 1000),
            created_at=created_at,
            coalesced=coalesced,
            cost_usd=cost,
        )
        await self._recorder.record(
            _history_row(outcome, text, options, api_key_id, chat_id, answer)
        )
        return outcome

    def _check_text(self, text: str) -> str:
        stripped = text.strip()
        if not stripped:
            raise Unprocessable("The text is empty.", code="empty_text")
        limit = self._settings.max_text_chars
        if len(stripped) > limit:
            raise PayloadTooLarge(
                f"The text has {len(stripped)} characters; the limit is {limit} (MAX_TEXT_CHARS).",
                code="text_too_long",
                details={"length": len(stripped), "limit": limit},
            )
        return stripped

    async def _check_budget(self, api_key_id: int, budget: float | None, now: datetime) -> None:
        """Refuse work that would call the LLM once the key's monthly budget is spent."""
        if budget is None or self._llm is None or self._sessionmaker is None:
            return
        async with self._sessionmaker() as session:
            spent = await month_to_date_cost(session, api_key_id, now)
        if spent >= budget:
            raise PaymentRequired(
                f"This API key has used its monthly budget (${spent:.4f} of ${budget:.2f}). "
                "Cached answers are still served; ask an admin to raise the budget.",
                details={"spent_usd": round(spent, 6), "budget_usd": budget},
            )

    async def _read_cache(self, task: Task[Any, Any], key: str) -> _Answer | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            return _load(task, raw, own=False)
        except (ValueError, KeyError, TypeError):
            return None  # an entry from an older schema is just a miss

    async def _compute(
        self, task: Task[Any, Any], text: str, options: BaseModel, ctx: TaskContext
    ) -> _Answer:
        if self._llm is None:
            return await self._offline(task, text, options, ctx, degraded=False)
        metered = MeteredLLM(self._llm)
        try:
            result = await task.run_llm(metered, text, options, ctx)
        except AppError as exc:
            if not (
                self._settings.offline_fallback
                and exc.code in DEGRADABLE_CODES
                and task.has_offline
            ):
                raise
            LLM_FALLBACKS.labels(str(exc.details.get("endpoint", "llm")), "offline").inc()
            degraded = await self._offline(task, text, options, ctx, degraded=True)
            attempts = metered.attempts + int(exc.details.get("attempts", 0) or 0)
            return _Answer(degraded.result, OFFLINE_MODEL, ctx.language, True, None, None, attempts)
        return _Answer(
            result=result,
            model=metered.last_model or self._llm.model,
            language=ctx.language,
            usage=Usage(metered.prompt_tokens, metered.completion_tokens),
            endpoint=metered.last_endpoint,
            attempts=metered.attempts,
        )

    @staticmethod
    async def _offline(
        task: Task[Any, Any], text: str, options: BaseModel, ctx: TaskContext, *, degraded: bool
    ) -> _Answer:
        result = await task.arun_offline(text, options, ctx)
        if result is None:
            raise LLMUnavailable(
                f"The '{task.name}' task needs an LLM. Set OPENAI_API_KEY (OpenAI) or "
                "OPENAI_BASE_URL (Ollama, vLLM, LiteLLM...) to enable it.",
                details={"task": task.name},
            )
        return _Answer(result, OFFLINE_MODEL, ctx.language, degraded)

    def _cost(self, answer: _Answer) -> float | None:
        usage = answer.usage
        if usage is None:
            return None
        prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
        TOKENS.labels(answer.model, "prompt").inc(prompt)
        TOKENS.labels(answer.model, "completion").inc(completion)
        price = self._settings.price_for(answer.model)
        if price is None:
            return None
        cost = (prompt * price.input + completion * price.output) / 1_000_000
        COST_USD.labels(answer.model).inc(cost)
        return cost


def cache_key(
    task: Task[Any, Any], options: BaseModel, text: str, model: str, salt: str = ""
) -> str:
    """task + prompt version + model + settings salt + normalized options + text → a digest."""
    normalized = json.dumps(options.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256()
    for part in (task.name, task.prompt_version, model, salt, normalized, text):
        digest.update(part.encode())
        digest.update(b"\x00")
    return f"{task.name}:{digest.hexdigest()}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _dump(answer: _Answer) -> str:
    usage = answer.usage
    return json.dumps(
        {
            "result": answer.result.model_dump(mode="json"),
            "model": answer.model,
            "language": answer.language,
            "degraded": answer.degraded,
            "endpoint": answer.endpoint,
            "attempts": answer.attempts,
            "usage": [usage.prompt_tokens, usage.completion_tokens] if usage else None,
        }
    )


def _load(task: Task[Any, Any], payload: str, *, own: bool) -> _Answer:
    """Rebuild an answer. Usage and attempts belong to the request that computed it (`own`);
    a cached or coalesced answer cost nothing."""
    data = json.loads(payload)
    usage = data.get("usage") if own else None
    return _Answer(
        result=task.result_model.model_validate(data["result"]),
        model=str(data["model"]),
        language=data.get("language"),
        degraded=bool(data.get("degraded", False)),
        usage=Usage(usage[0], usage[1]) if usage else None,
        endpoint=data.get("endpoint"),
        attempts=int(data.get("attempts", 0)) if own else 0,
    )


def _history_row(
    outcome: TaskOutcome,
    text: str,
    options: BaseModel,
    api_key_id: int,
    chat_id: int | None,
    answer: _Answer,
) -> HistoryRecord:
    usage = outcome.usage
    return HistoryRecord(
        id=outcome.id,
        created_at=outcome.created_at,
        api_key_id=api_key_id,
        chat_id=chat_id,
        task=outcome.task,
        input_text=text,
        output_text=outcome.output,
        result=outcome.result.model_dump(mode="json"),
        options=options.model_dump(mode="json"),
        language=outcome.language,
        model=outcome.model,
        endpoint=answer.endpoint,
        cached=outcome.cached,
        degraded=outcome.degraded,
        coalesced=outcome.coalesced,
        attempts=answer.attempts,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cost_usd=outcome.cost_usd,
        duration_ms=outcome.duration_ms,
    )
