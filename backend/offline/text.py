"""Sentence splitting and tokenization for Spanish and English."""

from __future__ import annotations

import re
import unicodedata

# Abbreviations whose period does not end a sentence (lowercase, without the final period).
ABBREVIATIONS = frozenset(
    [
        "sr",
        "sra",
        "srta",
        "dr",
        "dra",
        "ud",
        "uds",
        "etc",
        "p",
        "ej",
        "pág",
        "pag",
        "núm",
        "num",
        "art",
        "dept",
        "av",
        "avda",
        "mr",
        "mrs",
        "ms",
        "prof",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "st",
        "vs",
        "e.g",
        "i.e",
        "u.s",
        "fig",
        "no",
        "approx",
    ]
)

STOPWORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        [
            "a",
            "al",
            "algo",
            "algunos",
            "ante",
            "antes",
            "como",
            "con",
            "contra",
            "cual",
            "cuando",
            "de",
            "del",
            "desde",
            "donde",
            "durante",
            "e",
            "el",
            "ella",
            "ellas",
            "ellos",
            "en",
            "entre",
            "era",
            "es",
            "esa",
            "esas",
            "ese",
            "eso",
            "esos",
            "esta",
            "estaba",
            "estado",
            "estan",
            "estas",
            "este",
            "esto",
            "estos",
            "fue",
            "fueron",
            "ha",
            "habia",
            "han",
            "hasta",
            "hay",
            "la",
            "las",
            "le",
            "les",
            "lo",
            "los",
            "mas",
            "me",
            "mi",
            "mientras",
            "muy",
            "ni",
            "no",
            "nos",
            "o",
            "os",
            "otra",
            "otro",
            "para",
            "pero",
            "poco",
            "por",
            "porque",
            "que",
            "quien",
            "se",
            "ser",
            "si",
            "sin",
            "sobre",
            "son",
            "su",
            "sus",
            "tambien",
            "tanto",
            "te",
            "tiene",
            "tienen",
            "todo",
            "todos",
            "tu",
            "un",
            "una",
            "uno",
            "unos",
            "y",
            "ya",
            "yo",
        ]
    ),
    "en": frozenset(
        [
            "a",
            "about",
            "above",
            "after",
            "again",
            "all",
            "also",
            "am",
            "an",
            "and",
            "any",
            "are",
            "as",
            "at",
            "be",
            "because",
            "been",
            "before",
            "being",
            "below",
            "between",
            "both",
            "but",
            "by",
            "can",
            "could",
            "did",
            "do",
            "does",
            "doing",
            "down",
            "during",
            "each",
            "few",
            "for",
            "from",
            "further",
            "had",
            "has",
            "have",
            "having",
            "he",
            "her",
            "here",
            "hers",
            "him",
            "his",
            "how",
            "i",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "itself",
            "just",
            "me",
            "more",
            "most",
            "my",
            "no",
            "nor",
            "not",
            "now",
            "of",
            "off",
            "on",
            "once",
            "only",
            "or",
            "other",
            "our",
            "out",
            "over",
            "own",
            "same",
            "she",
            "should",
            "so",
            "some",
            "such",
            "than",
            "that",
            "the",
            "their",
            "them",
            "then",
            "there",
            "these",
            "they",
            "this",
            "those",
            "through",
            "to",
            "too",
            "under",
            "until",
            "up",
            "very",
            "was",
            "we",
            "were",
            "what",
            "when",
            "where",
            "which",
            "while",
            "who",
            "whom",
            "why",
            "will",
            "with",
            "would",
            "you",
            "your",
        ]
    ),
}

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# A candidate boundary: terminal punctuation (plus closing quotes/brackets) and whitespace.
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’»)\]]*)\s+")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")


def fold(text: str) -> str:
    """Lowercase without accents: 'Atención' and 'atencion' match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    return [m.group(0).lower() for m in _WORD.finditer(text)]


def _ends_with_abbreviation(chunk: str) -> bool:
    words = chunk.rstrip(".").split()
    if not words:
        return False
    last = words[-1].lower().lstrip("(¿¡\"'")
    # Single capital letters are initials ("J. K. Rowling").
    return last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _split_paragraph(paragraph: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end(1)
        candidate = paragraph[start:end].strip()
        following = paragraph[match.end() : match.end() + 1]
        if match.group(1).startswith(".") and _ends_with_abbreviation(candidate):
            continue
        # A lowercase continuation after '.' is rarely a new sentence ("approx. three").
        if match.group(1) == "." and following.islower():
            continue
        if candidate:
            sentences.append(candidate)
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split_sentences(text: str) -> list[str]:
    """Sentences in order; paragraphs, line breaks of lists and bullets are boundaries too."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.strip()]
        # Lines that look like list items stand alone; other lines are wrapped prose.
        if len(lines) > 1 and all(_BULLET.match(line) or len(line) < 80 for line in lines):
            units = [_BULLET.sub("", line).strip() for line in lines]
        else:
            units = [" ".join(line.strip() for line in lines)]
        for unit in units:
            sentences.extend(_split_paragraph(unit))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def guess_stopword_language(tokens: list[str]) -> str:
    """'es' or 'en' by which stopword list the tokens hit more (cheap, no model)."""
    es = sum(1 for t in tokens if fold(t) in STOPWORDS["es"])
    en = sum(1 for t in tokens if t in STOPWORDS["en"])
    return "en" if en > es else "es"
