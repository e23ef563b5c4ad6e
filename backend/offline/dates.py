"""Dates in Spanish and English text, normalized to ISO 8601.

Absolute dates ("3 de marzo de 2026", "March 3, 2026", "2026-03-03", "03/03/2026") and relative ones
("mañana", "next Friday", "el próximo viernes", "en 3 días", "2 weeks ago") resolved against `now`.
Conventions (documented in docs/tasks.md): "next/próximo <weekday>" is the first such day after
today; "this/este/el <weekday>" may be today; a day and month without a year take `now`'s year;
numeric dates are day/month/year unless the text is English and the first number can only be a
month (03/25/2026 → March 25).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.offline.numbers import SMALL_NUMBERS

MONTHS: dict[str, int] = {}
for _month, _names in enumerate(
    [
        ("enero", "january", "jan", "ene"),
        ("febrero", "february", "feb"),
        ("marzo", "march", "mar"),
        ("abril", "april", "apr", "abr"),
        ("mayo", "may"),
        ("junio", "june", "jun"),
        ("julio", "july", "jul"),
        ("agosto", "august", "aug", "ago"),
        ("septiembre", "setiembre", "september", "sep", "sept"),
        ("octubre", "october", "oct"),
        ("noviembre", "november", "nov"),
        ("diciembre", "december", "dec", "dic"),
    ],
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _month

WEEKDAYS: dict[str, int] = {
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "miércoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "sábado": 5,
    "domingo": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

# Number words people write in dates ("in three days", "hace dos semanas").
NUMBER_WORDS: dict[str, int] = {**SMALL_NUMBERS, "a": 1, "an": 1}

_FULL_MONTHS = sorted((m for m in MONTHS if len(m) > 3 or m == "may"), key=len, reverse=True)
_ALL_MONTHS = sorted(MONTHS, key=len, reverse=True)
_MONTH = "(" + "|".join(_FULL_MONTHS) + ")"
# Abbreviations only where the shape makes them unambiguous ("Mar 3, 2026", "3 Mar 2026").
_MONTH_ABBR = "(" + "|".join(_ALL_MONTHS) + r")\.?"
_WEEKDAY = "(" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + ")"
_NUM = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + ")"
_UNIT = r"(d[ií]as?|days?|semanas?|weeks?|mes(?:es)?|months?)"
_ORD = r"(?:st|nd|rd|th|º|°)?"

_I = re.IGNORECASE
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?\b"),
    ),
    (
        "es_long",
        re.compile(rf"\b(\d{{1,2}}){_ORD}\s+de\s+{_MONTH}(?:\s+(?:de|del)\s+(\d{{4}}))?\b", _I),
    ),
    ("en_mdy", re.compile(rf"\b{_MONTH_ABBR}\s+(\d{{1,2}}){_ORD}(?:,?\s+(\d{{4}}))?\b", _I)),
    (
        "en_dmy",
        re.compile(rf"\b(\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH_ABBR}(?:,?\s+(\d{{4}}))?\b", _I),
    ),
    ("month_year", re.compile(rf"\b{_MONTH}\s+(?:de\s+|del\s+)?(\d{{4}})\b", _I)),
    ("numeric", re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})\b")),
    ("day_after", re.compile(r"\b(pasado\s+mañana|the\s+day\s+after\s+tomorrow)\b", _I)),
    (
        "day_before",
        re.compile(r"\b(anteayer|antes\s+de\s+ayer|the\s+day\s+before\s+yesterday)\b", _I),
    ),
    ("next_weekday", re.compile(rf"\b(?:el\s+)?(?:pr[oó]xim[oa]|next)\s+{_WEEKDAY}\b", _I)),
    ("next_weekday", re.compile(rf"\b(?:el\s+)?{_WEEKDAY}\s+(?:que\s+viene|pr[oó]ximo)\b", _I)),
    ("last_weekday", re.compile(rf"\b(?:el\s+)?(?:pasado|last)\s+{_WEEKDAY}\b", _I)),
    ("last_weekday", re.compile(rf"\b(?:el\s+)?{_WEEKDAY}\s+pasado\b", _I)),
    ("this_weekday", re.compile(rf"\b(?:este|this|el|on)\s+{_WEEKDAY}\b", _I)),
    ("in_n", re.compile(rf"\b(?:en|dentro\s+de|in)\s+{_NUM}\s+{_UNIT}\b", _I)),
    ("n_ago", re.compile(rf"\bhace\s+{_NUM}\s+{_UNIT}\b", _I)),
    ("n_ago", re.compile(rf"\b{_NUM}\s+{_UNIT}\s+ago\b", _I)),
    ("today", re.compile(r"\b(hoy|today)\b", _I)),
    # "mañana" is also "morning": not after "la", "esta", "por la", "de la".
    ("tomorrow", re.compile(r"(?<!\bla\s)(?<!\besta\s)\b(mañana|tomorrow)\b", _I)),
    ("yesterday", re.compile(r"\b(ayer|yesterday)\b", _I)),
]


@dataclass(frozen=True, slots=True)
class FoundDate:
    text: str
    value: str  # ISO 8601: YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM
    start: int
    end: int


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(token: str) -> int:
    return int(token) if token.isdigit() else NUMBER_WORDS[token.lower()]


def _shift(today: date, amount: int, unit: str) -> date:
    unit = unit.lower()
    if unit.startswith(("d",)):
        return today + timedelta(days=amount)
    if unit.startswith(("s", "w")):
        return today + timedelta(weeks=amount)
    month_index = today.year * 12 + today.month - 1 + amount
    year, month = divmod(month_index, 12)
    for day in (today.day, 30, 29, 28):  # 31 March + 1 month → 30 April
        found = _safe_date(year, month + 1, day)
        if found:
            return found
    return today


def _resolve(kind: str, m: re.Match[str], today: date, language: str | None) -> str | None:
    g = m.groups()
    if kind == "iso":
        day = _safe_date(int(g[0]), int(g[1]), int(g[2]))
        if day is None:
            return None
        return f"{day.isoformat()}T{g[3]}:{g[4]}" if g[3] else day.isoformat()
    if kind == "es_long":
        found = _safe_date(int(g[2]) if g[2] else today.year, MONTHS[g[1].lower()], int(g[0]))
    elif kind == "en_mdy":
        found = _safe_date(int(g[2]) if g[2] else today.year, MONTHS[g[0].lower()], int(g[1]))
    elif kind == "en_dmy":
        found = _safe_date(int(g[2]) if g[2] else today.year, MONTHS[g[1].lower()], int(g[0]))
    elif kind == "month_year":
        return f"{int(g[1]):04d}-{MONTHS[g[0].lower()]:02d}"
    elif kind == "numeric":
        first, second, year = int(g[0]), int(g[2]), int(g[3])
        year = year + 2000 if year < 100 else year
        day_first = not (language == "en" and first <= 12) or second > 12
        found = _safe_date(year, second, first) if day_first else _safe_date(year, first, second)
    elif kind in {"next_weekday", "this_weekday", "last_weekday"}:
        target = WEEKDAYS[g[0].lower()]
        ahead = (target - today.weekday()) % 7
        if kind == "next_weekday":
            found = today + timedelta(days=ahead or 7)
        elif kind == "this_weekday":
            found = today + timedelta(days=ahead)
        else:
            found = today - timedelta(days=(today.weekday() - target) % 7 or 7)
    elif kind == "in_n":
        found = _shift(today, _number(g[0]), g[1])
    elif kind == "n_ago":
        found = _shift(today, -_number(g[0]), g[1])
    else:
        offsets = {"today": 0, "tomorrow": 1, "yesterday": -1, "day_after": 2, "day_before": -2}
        found = today + timedelta(days=offsets[kind])
    return found.isoformat() if found else None


def find_dates(text: str, now: datetime, language: str | None = None) -> list[FoundDate]:
    """Every date in the text, in order; of overlapping matches, the earlier pattern wins."""
    today = now.date()
    taken: list[tuple[int, int]] = []
    found: list[FoundDate] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            value = _resolve(kind, m, today, language)
            if value is None:
                continue
            taken.append((m.start(), m.end()))
            found.append(FoundDate(m.group(0), value, m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)
