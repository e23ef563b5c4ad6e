"""The inline keyboard of modes and its callback data (`mode:<task>`, `mode:history`...)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from backend.bot.commands import task_label
from backend.bot.texts import Lang, say
from backend.compat.names import HISTORY_MODE
from backend.tasks.registry import TaskRegistry

PREFIX = "mode:"
CLEAR = "clear"
PER_ROW = 2


def modes_keyboard(registry: TaskRegistry, lang: Lang) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(task_label(task, lang).capitalize(), callback_data=PREFIX + task.name)
        for task in registry
    ]
    buttons.append(
        InlineKeyboardButton(
            say(lang, "history_label").capitalize(), callback_data=PREFIX + HISTORY_MODE
        )
    )
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    rows.append([InlineKeyboardButton(say(lang, "cancel_label"), callback_data=PREFIX + CLEAR)])
    return InlineKeyboardMarkup(rows)


def parse_callback(data: str | None) -> str | None:
    """The mode a button asks for, or None for data that is not ours."""
    if not data or not data.startswith(PREFIX):
        return None
    return data[len(PREFIX) :] or None
