"""Reads a plain-language question about the history ("mis últimos 3 resúmenes", "translations from
yesterday") into a filter. Rule-based, Spanish and English. The result is only ever a filter on the
caller's own records: nothing in the question can widen the scope.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.offline.numbers import SMALL_NUMBERS

MAX_LIMIT = 100
DEFAULT_LIMIT = 5

_NUMBER_WORDS: dict[str, int] = {
    **SMALL_NUMBERS,
    "veinte": 20,
    "twenty": 20,
}
_QUOTED = re.compile(r"[\"“«']([^\"”»']{2,100})[\"”»']")
_ABOUT = re.compile(
    r"\b(?:sobre|acerca de|about|containing|que contengan?|con la palabra)\s+"
    r"([\w@.-]{3,50})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class QuestionFilter:
    task: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    order: str = "desc"
    contains: str | None = None


def fold(text: str) -> str:
    """Lowercase without accents, so 'resúmenes' and 'resumenes' read the same."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _period(folded: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    today = _start_of_day(now)
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    if match := re.search(r"(?:ultimos|last|past)\s+(\d+)\s+(?:dias|days)", folded):
        return today - timedelta(days=int(match.group(1))), None
    if re.search(r"\b(anteayer|day before yesterday)\b", folded):
        return today - timedelta(days=2), today - timedelta(days=1)
    if re.search(r"\b(ayer|yesterday)\b", folded):
        return today - timedelta(days=1), today
    if re.search(r"\b(hoy|today)\b", folded):
        return today, None
    if re.search(r"semana pasada|ultima semana|last week|previous week", folded):
        return monday - timedelta(days=7), monday
    if re.search(r"esta semana|this week", folded):
        return monday, None
    if re.search(r"mes pasado|ultimo mes|last month|previous month", folded):
        previous = (month - timedelta(days=1)).replace(day=1)
        return previous, month
    if re.search(r"este mes|this month", folded):
        return month, None
    return None, None


def _limit(folded: str) -> int | None:
    if match := re.search(r"\b(\d{1,4})\b", folded):
        return max(1, min(MAX_LIMIT, int(match.group(1))))
    for word in re.findall(r"\w+", folded):
        if word in _NUMBER_WORDS and word not in ("un", "una", "uno", "one"):
            return _NUMBER_WORDS[word]
    if re.search(r"\b(ultimo|ultima|last one|latest)\b", folded) and not re.search(
        r"\b(ultimos|ultimas)\b", folded
    ):
        return 1
    return None


def _task(folded: str, task_names: Iterable[tuple[str, tuple[str, ...]]]) -> str | None:
    words = re.findall(r"\w+", folded)
    for canonical, names in task_names:
        stems = {fold(name)[:5] for name in names if len(name) >= 5}
        if any(word[:5] in stems for word in words if len(word) >= 5):
            return canonical
    return None


def read_question(
    question: str, task_names: Iterable[tuple[str, tuple[str, ...]]], now: datetime
) -> QuestionFilter:
    """`task_names` is (canonical name, all its names) per task, from the registry."""
    folded = fold(question)
    since, until = _period(folded, now)
    contains = None
    if match := _QUOTED.search(question) or _ABOUT.search(question):
        contains = match.group(1).strip()
    oldest = re.search(r"\b(primer[oa]?s?|first|oldest|mas antigu\w*)\b", folded)
    return QuestionFilter(
        task=_task(folded, task_names),
        since=since,
        until=until,
        limit=_limit(folded) or DEFAULT_LIMIT,
        order="asc" if oldest else "desc",
        contains=contains,
    )
