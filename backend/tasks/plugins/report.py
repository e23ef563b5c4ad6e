"""report (reporte): a digest of the chat's history over a period — counts per task and a summary.

The period is `options.period` (day, week, month: the last 24 hours, 7 days or 30 days before the
request), or, when absent, read from the text ("informe de hoy", "monthly report"), else a week.
The history comes from `ctx.history`, always limited to the caller's API key (and to the chat when
the request names one). Offline the summary is extractive (TextRank over what was processed); with
an LLM it is written by the model. Reports read the history as it is now, so they are not cached.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from backend.llm.chunking import input_budget
from backend.llm.schemas import ChatMessage, LLMClient
from backend.offline.summarizer import summarize
from backend.offline.text import fold, split_sentences
from backend.offline.tokens import estimate_tokens
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    HistoryEntry,
    HistoryUnavailable,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

Period = Literal["day", "week", "month"]
PERIOD_LENGTH: dict[str, timedelta] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
_PERIOD_WORDS: list[tuple[Period, re.Pattern[str]]] = [
    ("day", re.compile(r"\b(hoy|dia|diario|today|day|daily|24 ?h)\b")),
    ("month", re.compile(r"\b(mes|mensual|month|monthly|30 dias|30 days)\b")),
    ("week", re.compile(r"\b(semana|semanal|week|weekly|7 dias|7 days)\b")),
]
# How much of each processed text goes into the digest the summary is made from.
EXCERPT_CHARS = 300


class ReportOptions(TaskOptions):
    period: Period | None = Field(
        default=None,
        description="day, week or month (the last 24 h, 7 or 30 days); default: from the text, "
        "else week.",
    )
    max_sentences: int = Field(default=5, ge=1, le=20, description="Longest summary.")


class ReportResult(BaseModel):
    period: Period
    since: datetime
    until: datetime
    total: int = Field(description="Requests in the period (reports excluded).")
    counts: dict[str, int] = Field(description="Requests per task.")
    summary: str = Field(description="What was processed, in a few sentences.")
    language: str | None = None


def period_of(text: str, options: ReportOptions) -> Period:
    if options.period:
        return options.period
    folded = fold(text)
    for period, pattern in _PERIOD_WORDS:
        if pattern.search(folded):
            return period
    return "week"


class ReportTask(Task[ReportOptions, ReportResult]):
    name = "report"
    aliases = ("reporte", "informe")
    title = "Report"
    description = "A digest of this chat's history: counts per task and a summary (day/week/month)."
    mode_prompt = "¿De qué periodo quieres el informe: día, semana o mes?"
    options_model = ReportOptions
    result_model = ReportResult
    cacheable = False

    async def _entries(
        self, text: str, options: ReportOptions, ctx: TaskContext
    ) -> tuple[Period, datetime, list[HistoryEntry]]:
        if ctx.history is None or ctx.api_key_id is None:
            raise HistoryUnavailable("The report task needs the history, which is not available.")
        period = period_of(text, options)
        since = ctx.now - PERIOD_LENGTH[period]
        entries = await ctx.history.entries(
            api_key_id=ctx.api_key_id,
            chat_id=ctx.chat_id,
            since=since,
            until=ctx.now,
            limit=ctx.limits.report_max_entries,
        )
        # A report about reports says nothing; they are left out of counts and summary.
        return period, since, [e for e in entries if e.task != self.name]

    def _result(
        self,
        period: Period,
        since: datetime,
        entries: list[HistoryEntry],
        summary: str,
        ctx: TaskContext,
    ) -> ReportResult:
        counts = Counter(e.task for e in entries)
        return ReportResult(
            period=period,
            since=since,
            until=ctx.now,
            total=len(entries),
            counts=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            summary=summary,
            language=ctx.language,
        )

    async def arun_offline(
        self, text: str, options: ReportOptions, ctx: TaskContext
    ) -> ReportResult:
        period, since, entries = await self._entries(text, options, ctx)
        if not entries:
            return self._result(period, since, entries, _nothing(ctx.language), ctx)
        digest = "\n\n".join(_excerpt(e.input_text) for e in entries)
        summary = summarize(digest, options.max_sentences, ctx.language)
        return self._result(period, since, entries, summary, ctx)

    def build_messages(
        self, text: str, options: ReportOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        language = f" Write it in '{ctx.language}'." if ctx.language else ""
        system = (
            "You write activity digests. The text is a list of requests a user made to an "
            "assistant (task, what was sent, what came back), oldest first. Summarize what was "
            f"processed in at most {options.max_sentences} sentences: topics, recurring themes, "
            f"notable items. Answer with the summary only.{language} {DATA_NOT_INSTRUCTIONS}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    async def run_llm(
        self, llm: LLMClient, text: str, options: ReportOptions, ctx: TaskContext
    ) -> ReportResult:
        period, since, entries = await self._entries(text, options, ctx)
        if not entries:
            return self._result(period, since, entries, _nothing(ctx.language), ctx)
        budget = input_budget(ctx.limits.context_tokens, ctx.limits.output_tokens // 2)
        lines: list[str] = []
        used = 0
        # Newest first while they fit, then back in time order.
        for entry in reversed(entries):
            line = f"- [{entry.task}] {_excerpt(entry.input_text)} → {_excerpt(entry.output_text)}"
            used += estimate_tokens(line) + 1
            if used > budget:
                break
            lines.append(line)
        lines.reverse()
        completion = await llm.complete(self.build_messages("\n".join(lines), options, ctx))
        summary = completion.text.strip()
        if not summary:
            raise LLMBadOutput("The LLM returned an empty report summary.")
        return self._result(period, since, entries, summary, ctx)

    def parse(self, raw: str, options: ReportOptions, ctx: TaskContext) -> ReportResult:
        # run_llm builds the result itself (counts come from the history, not the model).
        raise NotImplementedError

    def render(self, result: ReportResult) -> str:
        spanish = result.language == "es"
        names = (
            {"day": "último día", "week": "última semana", "month": "último mes"}
            if spanish
            else {"day": "last day", "week": "last week", "month": "last month"}
        )
        requests = "peticiones" if spanish else "requests"
        counts = ", ".join(f"{task}: {n}" for task, n in result.counts.items())
        head = f"{names[result.period]}: {result.total} {requests}"
        return f"{head} ({counts})\n\n{result.summary}" if counts else f"{head}\n\n{result.summary}"


def _excerpt(text: str) -> str:
    """The first sentence(s) of a text, up to EXCERPT_CHARS, on one line."""
    sentences = split_sentences(text[: EXCERPT_CHARS * 2]) or [text]
    excerpt = ""
    for sentence in sentences:
        if excerpt and len(excerpt) + len(sentence) > EXCERPT_CHARS:
            break
        excerpt = f"{excerpt} {sentence}".strip()
    excerpt = " ".join(excerpt.split())
    return excerpt if len(excerpt) <= EXCERPT_CHARS else excerpt[:EXCERPT_CHARS].rstrip() + "…"


def _nothing(language: str | None) -> str:
    return "Sin actividad en este periodo." if language == "es" else "No activity in this period."


TASK = ReportTask()
