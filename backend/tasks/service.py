"""Runs one task request: cache → LLM (or the offline engine) → history.

The HTTP routes, the Spanish compatibility endpoints and (later) the bot and the job worker all call
`TaskRunner.run`, so caching, retries and history behave the same everywhere.
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

from backend.cache.backend import Cache
from backend.core.config import Settings
from backend.core.errors import PayloadTooLarge, Unprocessable
from backend.history.models import HistoryRecord
from backend.history.recorder import HistoryRecorder
from backend.llm.gateway import LLMGateway
from backend.llm.metered import MeteredLLM
from backend.offline.language import detect_language
from backend.tasks.base import LLMUnavailable, Task, TaskContext

OFFLINE_MODEL = "offline"
# Language detection is statistical; the first few thousand characters are plenty.
LANGUAGE_SAMPLE_CHARS = 2000


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


@dataclass(frozen=True, slots=True)
class _Answer:
    result: BaseModel
    model: str
    usage: Usage | None
    endpoint: str | None
    attempts: int


class TaskRunner:
    def __init__(
        self, settings: Settings, cache: Cache, llm: LLMGateway | None, recorder: HistoryRecorder
    ) -> None:
        self._settings = settings
        self._cache = cache
        self._llm = llm
        self._recorder = recorder

    async def run(
        self,
        task: Task[Any, Any],
        text: str,
        options: BaseModel,
        *,
        api_key_id: int,
        chat_id: int | None = None,
        read_cache: bool = True,
    ) -> TaskOutcome:
        started = time.perf_counter()
        created_at = datetime.now(UTC)
        text = self._check_text(text)
        language = detect_language(text[:LANGUAGE_SAMPLE_CHARS])
        ctx = TaskContext(language=language, now=created_at, api_key_id=api_key_id, chat_id=chat_id)
        model_name = self._llm.model if self._llm else OFFLINE_MODEL
        key = cache_key(task, options, text, model_name)

        cached = await self._read_cache(task, key) if read_cache else None
        answer = cached or await self._compute(task, text, options, ctx)
        if cached is None:
            await self._cache.set(key, _dump(answer), self._settings.cache_ttl_for(task.name))

        outcome = TaskOutcome(
            id=uuid.uuid4(),
            task=task.name,
            result=answer.result,
            output=task.render(answer.result),
            language=language,
            model=answer.model,
            cached=cached is not None,
            degraded=False,
            usage=None if cached else answer.usage,
            duration_ms=round((time.perf_counter() - started) * 1000),
            created_at=created_at,
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

    async def _read_cache(self, task: Task[Any, Any], key: str) -> _Answer | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return _Answer(
                result=task.result_model.model_validate(data["result"]),
                model=str(data["model"]),
                usage=None,
                endpoint=data.get("endpoint"),
                attempts=0,
            )
        except (ValueError, KeyError, TypeError):
            return None  # an entry from an older schema is just a miss

    async def _compute(
        self, task: Task[Any, Any], text: str, options: BaseModel, ctx: TaskContext
    ) -> _Answer:
        if self._llm is None:
            result = await task.arun_offline(text, options, ctx)
            if result is None:
                raise LLMUnavailable(
                    f"The '{task.name}' task needs an LLM. Set OPENAI_API_KEY (OpenAI) or "
                    "OPENAI_BASE_URL (Ollama, vLLM, LiteLLM...) to enable it.",
                    details={"task": task.name},
                )
            return _Answer(result, OFFLINE_MODEL, None, None, 0)
        metered = MeteredLLM(self._llm)
        result = await task.run_llm(metered, text, options, ctx)
        return _Answer(
            result=result,
            model=metered.last_model or self._llm.model,
            usage=Usage(metered.prompt_tokens, metered.completion_tokens),
            endpoint=metered.last_endpoint,
            attempts=metered.attempts,
        )


def cache_key(task: Task[Any, Any], options: BaseModel, text: str, model: str) -> str:
    """task + normalized options + text + model + prompt version → one stable digest."""
    normalized = json.dumps(options.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256()
    for part in (task.name, task.prompt_version, model, normalized, text):
        digest.update(part.encode())
        digest.update(b"\x00")
    return f"{task.name}:{digest.hexdigest()}"


def _dump(answer: _Answer) -> str:
    return json.dumps(
        {
            "result": answer.result.model_dump(mode="json"),
            "model": answer.model,
            "endpoint": answer.endpoint,
        }
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
        coalesced=False,
        attempts=answer.attempts,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        duration_ms=outcome.duration_ms,
    )
