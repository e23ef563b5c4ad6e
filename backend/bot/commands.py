"""Command names: fixed ones plus one per task name and alias, discovered from the registry."""

from __future__ import annotations

import re
from typing import Any

from telegram import BotCommand

from backend.bot.texts import Lang, say
from backend.compat.names import CLEAR_MODE_NAMES, HISTORY_MODE_NAMES, spanish_name
from backend.tasks.base import Task
from backend.tasks.registry import TaskRegistry

# What Telegram accepts as a command name (aliases such as "clasificación" are left out).
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

HELP_COMMANDS = ("start", "help", "ayuda")
MODE_COMMANDS = ("modo", "mode")
CANCEL_COMMANDS = tuple(name for name in CLEAR_MODE_NAMES if COMMAND_NAME.match(name))
HISTORY_COMMANDS = tuple(name for name in HISTORY_MODE_NAMES if COMMAND_NAME.match(name))
FIXED_COMMANDS = frozenset(HELP_COMMANDS + MODE_COMMANDS + CANCEL_COMMANDS + HISTORY_COMMANDS)


def task_commands(registry: TaskRegistry) -> dict[str, Task[Any, Any]]:
    """command → task, for every name and alias that is a valid command and not a fixed one."""
    commands: dict[str, Task[Any, Any]] = {}
    for task in registry:
        for name in task.mode_names():
            command = name.strip().lower()
            if COMMAND_NAME.match(command) and command not in FIXED_COMMANDS:
                commands.setdefault(command, task)
    return commands


def takes_language(task: Task[Any, Any]) -> bool:
    """Tasks with a target language accept one as the command's first word (/traducir fr ...)."""
    return "target_language" in task.options_model.model_fields


def task_label(task: Task[Any, Any], lang: Lang) -> str:
    return spanish_name(task) if lang == "es" else task.name


def usage_lines(registry: TaskRegistry, lang: Lang) -> str:
    """One line per task for /help: `/resumir <texto>`, `/traducir [idioma] <texto>`..."""
    text, language = say(lang, "text_arg"), say(lang, "language_arg")
    lines = []
    for task in registry:
        command = task_label(task, lang)
        if not COMMAND_NAME.match(command):
            command = task.name
        middle = f" [{language}]" if takes_language(task) else ""
        lines.append(f"/{command}{middle} <{text}>")
    return "\n".join(lines)


def menu(registry: TaskRegistry, lang: Lang) -> list[BotCommand]:
    """The command menu Telegram shows next to the text box (setMyCommands)."""
    items = [BotCommand("help", "Ayuda" if lang == "es" else "Help")]
    for task in registry:
        command = task_label(task, lang)
        if COMMAND_NAME.match(command):
            title = command.capitalize() if lang == "es" else task.title or task.name
            items.append(BotCommand(command, title[:256]))
    if lang == "es":
        items += [
            BotCommand("consultar", "Tu historial"),
            BotCommand("modo", "Modo actual"),
            BotCommand("cancelar", "Salir del modo"),
        ]
    else:
        items += [
            BotCommand("history", "Your history"),
            BotCommand("mode", "Current mode"),
            BotCommand("cancel", "Leave the mode"),
        ]
    return items
