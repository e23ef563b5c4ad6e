"""Answers a plain-language question about the caller's history ("mis últimos 3 resúmenes").

The LLM, when configured, turns the question into a JSON filter that a strict schema validates
(task, since, until, limit, order, contains: nothing else, never SQL). Without an LLM, or when it
fails or answers anything the schema rejects, the rule-based reader (`question.py`) reads it.

Whatever the question or the LLM says, the scope (the caller's API key and the given chat) comes
from the request only: the filter schema has no field for it and refuses unknown fields, so an
answer that tries to add `api_key_id` or `chat_id` is discarded as a whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from backend.history.models import HistoryRecord
from backend.history.question import DEFAULT_LIMIT, MAX_LIMIT, read_question
from backend.history.service import HistoryFilter, list_history, optional_utc
from backend.llm.schemas import ChatMessage, LLMClient
from backend.offline.language import detect_language
from backend.tasks.base import DATA_NOT_INSTRUCTIONS, LLMBadOutput, parse_json_object, wrap_text
from backend.tasks.registry import TaskRegistry

logger = logging.getLogger(__name__)

ANSWER_PREVIEW_CHARS = 200
LLM_MAX_TOKENS = 200


class AskFilter(BaseModel):
    """What a question may choose. Deliberately no api_key_id, chat_id or anything like SQL."""

    model_config = ConfigDict(extra="forbid")

    task: str | None = Field(default=None, description="Canonical task name, or null for all.")
    since: datetime | None = Field(default=None, description="Inclusive lower bound (UTC).")
    until: datetime | None = Field(default=None, description="Exclusive upper bound (UTC).")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    order: Literal["desc", "asc"] = "desc"
    contains: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return optional_utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> AskFilter:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


# JSON schema for providers with structured outputs (OpenAI "strict": every key required).
_FILTER_JSON_SCHEMA: dict[str, Any] = {
    "name": "history_filter",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["task", "since", "until", "limit", "order", "contains"],
        "properties": {
            "task": {"type": ["string", "null"]},
            "since": {"type": ["string", "null"], "description": "ISO 8601, UTC"},
            "until": {"type": ["string", "null"], "description": "ISO 8601, UTC, exclusive"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "order": {"type": "string", "enum": ["desc", "asc"]},
            "contains": {"type": ["string", "null"]},
        },
    },
}


@dataclass(frozen=True, slots=True)
class AskResult:
    filter: AskFilter
    source: Literal["llm", "rules"]
    rows: list[HistoryRecord]
    answer: str


def _task_names(registry: TaskRegistry) -> list[tuple[str, tuple[str, ...]]]:
    return [(task.name, task.mode_names()) for task in registry]


def _messages(question: str, registry: TaskRegistry, now: datetime) -> list[ChatMessage]:
    tasks = "; ".join(
        f"{name} (also: {', '.join(names[1:]) or '-'})" for name, names in _task_names(registry)
    )
    system = (
        "You turn a question about the user's own history of text-processing requests into a "
        "JSON filter. Answer with one JSON object with exactly these keys and nothing else: "
        '"task" (one of the task names below, or null for any task), "since" and "until" '
        '(ISO 8601 timestamps in UTC, until exclusive, or null), "limit" (1-100, default '
        f'{DEFAULT_LIMIT}), "order" ("desc" for newest first, "asc" for oldest first), '
        '"contains" (a word or phrase the texts must contain, or null). '
        f"Now is {now.isoformat(timespec='seconds')} ({now:%A}). Tasks: {tasks}. "
        "The filter always applies to the user's own records of the current chat only; it "
        "cannot select other chats, users or keys, so never add such fields. "
        + DATA_NOT_INSTRUCTIONS
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(question)}]


def _canonical_task(value: str | None, registry: TaskRegistry) -> str | None:
    if value is None:
        return None
    task = registry.find(value)
    if task is None:
        raise ValueError("unknown task")
    return task.name


async def _llm_filter(
    llm: LLMClient, question: str, registry: TaskRegistry, now: datetime
) -> AskFilter | None:
    """The LLM's filter, or None when it failed or answered something the schema refuses."""
    try:
        completion = await llm.complete(
            _messages(question, registry, now),
            json_schema=_FILTER_JSON_SCHEMA,
            max_tokens=LLM_MAX_TOKENS,
        )
        data = parse_json_object(completion.text)
        parsed = AskFilter.model_validate(data)
        return parsed.model_copy(update={"task": _canonical_task(parsed.task, registry)})
    except (ValidationError, ValueError, LLMBadOutput) as exc:
        logger.info("llm history filter rejected", extra={"error": type(exc).__name__})
    except Exception as exc:  # the LLM being down or slow must never fail the question
        logger.warning("llm history filter failed", extra={"error": type(exc).__name__})
    return None


def _rules_filter(question: str, registry: TaskRegistry, now: datetime) -> AskFilter:
    reading = read_question(question, _task_names(registry), now)
    return AskFilter(
        task=reading.task,
        since=reading.since,
        until=reading.until,
        limit=reading.limit,
        order="asc" if reading.order == "asc" else "desc",
        contains=reading.contains,
    )


def compose_answer(question: str, found: AskFilter, rows: list[HistoryRecord]) -> str:
    """A short plain-text answer in the question's language (Spanish or English)."""
    spanish = detect_language(question) == "es"
    if not rows:
        return "No encontré registros que coincidan." if spanish else "No matching records found."
    what = f" ({found.task})" if found.task else ""
    header = (
        f"Encontré {len(rows)} registro{'s' if len(rows) != 1 else ''}{what}:"
        if spanish
        else f"Found {len(rows)} record{'s' if len(rows) != 1 else ''}{what}:"
    )
    lines = [header]
    for row in rows:
        output = " ".join(row.output_text.split())
        if len(output) > ANSWER_PREVIEW_CHARS:
            output = output[: ANSWER_PREVIEW_CHARS - 1] + "…"
        lines.append(f"- {row.created_at:%Y-%m-%d %H:%M} [{row.task}] {output}")
    return "\n".join(lines)


async def ask_history(
    session: AsyncSession,
    *,
    llm: LLMClient | None,
    registry: TaskRegistry,
    api_key_id: int,
    chat_id: int | None,
    question: str,
    now: datetime | None = None,
) -> AskResult:
    now = now or datetime.now(UTC)
    found = await _llm_filter(llm, question, registry, now) if llm is not None else None
    source: Literal["llm", "rules"] = "llm" if found is not None else "rules"
    if found is None:
        found = _rules_filter(question, registry, now)
    # The scope comes from the request, never from the question or the LLM.
    query = HistoryFilter(
        api_key_id=api_key_id,
        chat_id=chat_id,
        task=found.task,
        since=found.since,
        until=found.until,
        contains=found.contains,
        limit=found.limit,
        newest_first=found.order == "desc",
    )
    rows, _ = await list_history(session, query)
    return AskResult(found, source, rows, compose_answer(question, found, rows))
