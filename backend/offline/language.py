"""Language detection with lingua, restricted to the languages our users write in."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lingua import Language, LanguageDetectorBuilder

SUPPORTED = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.CATALAN,
    Language.DUTCH,
    Language.RUSSIAN,
    Language.CHINESE,
    Language.JAPANESE,
    Language.ARABIC,
)
MIN_LETTERS = 3


@lru_cache(maxsize=1)
def _detector() -> Any:
    # Built on first use (or by warm_up at start-up), never at import time: it loads models.
    return (
        LanguageDetectorBuilder.from_languages(*SUPPORTED).with_preloaded_language_models().build()
    )


def warm_up() -> None:
    _detector()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ("es", "en"...), or None when the text gives too little to tell."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    language = _detector().detect_language_of(text)
    if language is None:
        return None
    return str(language.iso_code_639_1.name).lower()
