"""Spanish names of tasks and languages, as the original design's users write them."""

from __future__ import annotations

from typing import Any

from backend.tasks.base import Task

# The chat mode that turns the next text into a history question rather than a task.
HISTORY_MODE = "history"
HISTORY_MODE_NAMES = ("consultar", "consulta", "history", "historial")
CLEAR_MODE_NAMES = ("limpiar", "clear", "cancelar", "cancel")
EMPTY_MODE_VALUES = ("", "null", "none")

LANGUAGE_NAMES = {
    "ingles": "en",
    "inglés": "en",
    "english": "en",
    "espanol": "es",
    "español": "es",
    "castellano": "es",
    "spanish": "es",
    "frances": "fr",
    "francés": "fr",
    "french": "fr",
    "aleman": "de",
    "alemán": "de",
    "german": "de",
    "italiano": "it",
    "italian": "it",
    "portugues": "pt",
    "portugués": "pt",
    "portuguese": "pt",
    "catalan": "ca",
    "catalán": "ca",
}


def spanish_name(task: Task[Any, Any]) -> str:
    """The name the original design used (resumir, traducir, clasificar...)."""
    return task.aliases[0] if task.aliases else task.name


def language_code(value: str | None) -> str:
    if value is None or not value.strip():
        return "en"
    cleaned = value.strip().lower()
    return LANGUAGE_NAMES.get(cleaned, cleaned)
