"""Errors become a friendly message in the chat, never silence (and never a stack trace)."""

from __future__ import annotations

from backend.bot.commands import task_label
from backend.bot.texts import Lang, say
from backend.core.errors import AppError
from backend.tasks.registry import TaskRegistry


def friendly_error(exc: AppError, lang: Lang, registry: TaskRegistry) -> str:
    if exc.code == "llm_unavailable":
        task = registry.find(str(exc.details.get("task", "")))
        name = task_label(task, lang) if task else str(exc.details.get("task", ""))
        offline = [task_label(t, lang) for t in registry if t.has_offline]
        extra = say(lang, "offline_tasks", tasks=", ".join(f"/{n}" for n in offline))
        return say(lang, "needs_llm", task=name) + (extra if offline else "")
    if exc.code == "text_too_long":
        return say(
            lang, "too_long", length=exc.details.get("length"), limit=exc.details.get("limit")
        )
    if exc.code == "empty_text":
        return say(lang, "empty_text")
    if exc.status_code == 402:
        return say(lang, "budget")
    if exc.status_code == 429:
        return say(lang, "busy")
    if exc.status_code >= 500 or exc.code.startswith("llm_"):
        return say(lang, "llm_down")
    return say(lang, "failed", reason=exc.message)
