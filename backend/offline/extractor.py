"""Offline information extraction for Spanish and English: regular expressions and heuristics.

Finds emails, URLs, phone numbers, dates (see dates.py), amounts with a currency or a unit, and
capitalized names, which word lists and context sort into people, organizations and places. It is
a best effort that favours precision: an unknown capitalized word alone at the start of a sentence
is not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from backend.offline.dates import FoundDate, find_dates
from backend.offline.gazetteer import (
    FIRST_NAMES,
    KNOWN_ORGS,
    NOT_NAMES,
    ORG_WORDS,
    PLACE_PREPOSITIONS,
    PLACES,
    TITLES,
)
from backend.offline.text import fold

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'«»]+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{6,18}\d(?![\w])")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 9, 15

CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY"}
CURRENCY_CODES = ("EUR", "USD", "GBP", "MXN", "ARS", "COP", "CLP", "PEN", "JPY", "CHF", "CAD")
CURRENCY_WORDS = {
    "euro": "EUR",
    "euros": "EUR",
    "dolar": "USD",
    "dolares": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "libra": "GBP",
    "libras": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "peso": "MXN",
    "pesos": "MXN",
    "yen": "JPY",
    "yenes": "JPY",
}
UNITS = {
    "%": "%",
    "por ciento": "%",
    "percent": "%",
    "kg": "kg",
    "kilos": "kg",
    "kilogramos": "kg",
    "kilograms": "kg",
    "g": "g",
    "gramos": "g",
    "grams": "g",
    "t": "t",
    "toneladas": "t",
    "tons": "t",
    "km": "km",
    "kilometros": "km",
    "kilómetros": "km",
    "kilometers": "km",
    "kilometres": "km",
    "m": "m",
    "metros": "m",
    "meters": "m",
    "metres": "m",
    "m2": "m2",
    "m²": "m2",
    "cm": "cm",
    "mm": "mm",
    "l": "l",
    "litros": "l",
    "liters": "l",
    "litres": "l",
    "ml": "ml",
    "kwh": "kWh",
    "kw": "kW",
    "gb": "GB",
    "mb": "MB",
    "tb": "TB",
    "millas": "mi",
    "miles": "mi",
}
MULTIPLIERS = {
    "mil": 1e3,
    "k": 1e3,
    "millon": 1e6,
    "millón": 1e6,
    "millones": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "billion": 1e9,
    "mil millones": 1e9,
}

_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_MULT = "(?:" + "|".join(sorted(map(re.escape, MULTIPLIERS), key=len, reverse=True)) + ")"
_SYMBOL = "(?:US\\$|[€$£¥])"
_CODE = "(?:" + "|".join(CURRENCY_CODES) + ")"
_CUR_WORD = (
    "(?:" + "|".join(sorted({*CURRENCY_WORDS, "dólar", "dólares"}, key=len, reverse=True)) + ")"
)
_UNIT = "(?:" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)) + ")"
AMOUNT_PATTERNS = (
    # €1.200, US$ 3.5 million, USD 200
    re.compile(rf"(?P<cur>{_SYMBOL}|\b{_CODE})\s?(?P<num>{_NUMBER})(?:\s?(?P<mult>{_MULT})\b)?"),
    # 1.200 €, 3 millones de euros, 200 USD, 20 dollars
    re.compile(
        rf"(?<![\w.,])(?P<num>{_NUMBER})(?:\s?(?P<mult>{_MULT}))?(?:\s+de)?\s?"
        rf"(?P<cur>{_SYMBOL}|{_CODE}\b|{_CUR_WORD}\b)",
        re.IGNORECASE,
    ),
    # 5 kg, 20 %, 3,5 litros
    re.compile(rf"(?<![\w.,])(?P<num>{_NUMBER})\s?(?P<unit>{_UNIT})(?![\w])", re.IGNORECASE),
)

# A capitalized word; not an initial of "S.A." (so the suffix below can take it whole).
_CAP = r"[A-ZÁÉÍÓÚÑÜ][\w'’&-]*(?!\.\w)"
_CONNECTOR = r"(?:de|del|la|las|los|of|the|for|von|van|da|di)"
_ORG_SUFFIX = r"(?:S\.A\.U?\.?|S\.L\.U?\.?|Inc\.|Ltd\.|LLC|GmbH)"
NAME = re.compile(rf"{_CAP}(?:\s+(?:{_CONNECTOR}\s+)?{_CAP})*(?:,?\s+{_ORG_SUFFIX})?")
_SENTENCE_START = re.compile(r"(?:^|[.!?¿¡:;\n\"“«(]\s*)$")


@dataclass(frozen=True, slots=True)
class FoundAmount:
    text: str
    value: float
    currency: str | None = None
    unit: str | None = None


@dataclass
class Extraction:
    people: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    dates: list[FoundDate] = field(default_factory=list)
    amounts: list[FoundAmount] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)


def parse_number(raw: str, language: str | None = None) -> float:
    """'1.234,56' (es), '1,234.56' (en), '3,5', '1.500' (es: 1500; en: 1.5)."""
    raw = raw.replace("\u00a0", "").replace("\u202f", "")
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
    elif "," in raw:
        groups = raw.split(",")
        decimal = "," if language != "en" or len(groups[-1]) != 3 or len(groups) == 1 else ""
        if language == "en" and all(len(g) == 3 for g in groups[1:]):
            decimal = ""
    elif "." in raw:
        groups = raw.split(".")
        thousands = all(len(g) == 3 for g in groups[1:]) and (language == "es" or len(groups) > 2)
        decimal = "" if thousands else "."
    else:
        decimal = ""
    thousands_sep = {",": ".", ".": ",", "": ",."}[decimal]
    for sep in thousands_sep:
        raw = raw.replace(sep, "")
    return float(raw.replace(",", ".")) if decimal else float(raw)


def _currency(raw: str) -> str:
    if raw in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[raw]
    if raw.upper() in CURRENCY_CODES:
        return raw.upper()
    return CURRENCY_WORDS[fold(raw)]


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def find_amounts(
    text: str, language: str | None, taken: list[tuple[int, int]]
) -> list[tuple[int, FoundAmount]]:
    found: list[tuple[int, FoundAmount]] = []
    for pattern in AMOUNT_PATTERNS:
        for m in pattern.finditer(text):
            if _overlaps(m.start(), m.end(), taken):
                continue
            groups = m.groupdict()
            value = parse_number(groups["num"], language)
            if groups.get("mult"):
                value *= MULTIPLIERS[groups["mult"].lower()]
            if groups.get("cur"):
                amount = FoundAmount(m.group(0).strip(), value, currency=_currency(groups["cur"]))
            else:
                unit = UNITS[groups["unit"].lower()]
                amount = FoundAmount(m.group(0).strip(), value, unit=unit)
            taken.append((m.start(), m.end()))
            found.append((m.start(), amount))
    return found


def _phones(text: str, taken: list[tuple[int, int]]) -> list[str]:
    phones = []
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
            continue
        if _overlaps(m.start(), m.end(), taken):
            continue
        taken.append((m.start(), m.end()))
        phones.append(("+" if m.group(0).startswith("+") else "") + digits)
    return phones


def _classify_name(
    words: list[str], previous: str, at_sentence_start: bool, titled: bool
) -> str | None:
    """'person', 'organization', 'place' or None (not confident enough)."""
    folded = [fold(w).rstrip(".") for w in words]
    whole = " ".join(folded)
    if any(w in ORG_WORDS or fold(w) in ORG_WORDS for w in words) or whole in KNOWN_ORGS:
        return "organization"
    if len(words) == 1 and words[0].isupper() and len(words[0]) >= 2 and words[0].isalpha():
        return "organization"  # acronyms: ONU, IBM, BBVA
    if whole in PLACES:
        return "place"
    if titled or folded[0] in FIRST_NAMES:
        return "person"
    if previous in PLACE_PREPOSITIONS:
        return "place"
    if len(words) >= 2 and not at_sentence_start:
        return "person"
    if 2 <= len(words) <= 3 and all(w[0].isupper() for w in words):
        return "person"
    return None


def _names(text: str, taken: list[tuple[int, int]], result: Extraction) -> None:
    for m in NAME.finditer(text):
        if _overlaps(m.start(), m.end(), taken):
            continue
        words = m.group(0).replace(",", "").split()
        start = m.start()
        before = text[:start]
        at_start = bool(_SENTENCE_START.search(before))
        previous_words = before.split()
        previous = fold(previous_words[-1]).strip(".,;:") if previous_words else ""
        titled = previous in TITLES
        # Drop leading/trailing words that are not names (articles, weekdays, greetings).
        while words and (fold(words[0]).rstrip(".") in NOT_NAMES or fold(words[0]) in TITLES):
            titled = titled or fold(words[0]) in TITLES
            previous = fold(words[0])
            words = words[1:]
            at_start = False
        while words and (fold(words[-1]) in NOT_NAMES or fold(words[-1]) in {"de", "del", "la"}):
            words = words[:-1]
        if not words:
            continue
        for part, part_previous, part_start, part_titled in _split_person(
            words, previous, at_start, titled
        ):
            kind = _classify_name(part, part_previous, part_start, part_titled)
            name = " ".join(part)
            target = {
                "person": result.people,
                "organization": result.organizations,
                "place": result.places,
            }.get(kind or "")
            if target is not None and name not in target:
                target.append(name)


def _split_person(
    words: list[str], previous: str, at_start: bool, titled: bool
) -> list[tuple[list[str], str, bool, bool]]:
    """'María García de Telefónica' is a person, then where she is from (an org or a place)."""
    person_like = titled or fold(words[0]) in FIRST_NAMES
    for index, word in enumerate(words[1:-1], start=1):
        if person_like and fold(word) in {"de", "del", "of", "from"}:
            rest = words[index + 1 :]
            folded_rest = " ".join(fold(w) for w in rest)
            if (
                folded_rest in KNOWN_ORGS
                or folded_rest in PLACES
                or any(fold(w) in ORG_WORDS for w in rest)
            ):
                return [
                    (words[:index], previous, at_start, titled),
                    (rest, "en" if folded_rest in PLACES else fold(word), False, False),
                ]
    return [(words, previous, at_start, titled)]


def extract(text: str, now: datetime, language: str | None = None) -> Extraction:
    result = Extraction()
    taken: list[tuple[int, int]] = []
    for pattern, target in ((EMAIL, result.emails), (URL, result.urls)):
        for m in pattern.finditer(text):
            if _overlaps(m.start(), m.end(), taken):
                continue
            value = m.group(0).rstrip(".,;:!?)]}»”'")
            taken.append((m.start(), m.start() + len(value)))
            if value not in target:
                target.append(value)
    result.dates = find_dates(text, now, language)
    taken.extend((d.start, d.end) for d in result.dates)
    amounts = find_amounts(text, language, taken)
    result.amounts = [a for _, a in sorted(amounts, key=lambda pair: pair[0])]
    result.phones = list(dict.fromkeys(_phones(text, taken)))
    _names(text, taken, result)
    return result
