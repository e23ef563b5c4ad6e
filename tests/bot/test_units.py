"""Pure pieces: message splitting, command discovery, command arguments."""

from __future__ import annotations

from pydantic import BaseModel

from backend.bot.commands import FIXED_COMMANDS, task_commands
from backend.bot.handlers import command_payload, split_language
from backend.bot.replies import split_message, units
from backend.llm.schemas import ChatMessage
from backend.tasks.base import Task, TaskContext, TaskOptions
from backend.tasks.registry import TaskRegistry


def test_short_text_is_one_message() -> None:
    assert split_message("  hola  ") == ["hola"]
    assert split_message("") == []


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    paragraphs = ["A" * 30 + ".", "B" * 30 + ".", "C" * 30 + "."]
    assert split_message("\n\n".join(paragraphs), limit=70) == [
        paragraphs[0] + "\n\n" + paragraphs[1],
        paragraphs[2],
    ]
    sentences = "Uno dos tres. Cuatro cinco seis. Siete ocho nueve."
    assert split_message(sentences, limit=35) == [
        "Uno dos tres. Cuatro cinco seis.",
        "Siete ocho nueve.",
    ]
    words = "palabra " * 10
    pieces = split_message(words, limit=20)
    assert all(len(p) <= 20 for p in pieces) and all(p.startswith("palabra") for p in pieces)
    assert split_message("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_counts_utf16_units_like_telegram() -> None:
    emoji = "😀" * 3000  # 6000 UTF-16 units
    pieces = split_message(emoji)
    assert len(pieces) == 2 and all(units(p) <= 4096 for p in pieces)
    assert "".join(pieces) == emoji


def test_command_arguments() -> None:
    assert command_payload("/resumir") == ""
    assert command_payload("/resumir@workflow_assistant_bot  Un texto\ncon líneas") == (
        "Un texto\ncon líneas"
    )
    assert split_language("fr Hola mundo") == ("fr", "Hola mundo")
    assert split_language("inglés\nBuenos días") == ("inglés", "Buenos días")
    assert split_language("fr") == ("fr", "")
    # Not languages: capitalized words, Spanish articles, ordinary words.
    assert split_language("Es un día bonito") == (None, "Es un día bonito")
    assert split_language("el perro ladra") == (None, "el perro ladra")
    assert split_language("Hola") == (None, "Hola")


class _Echo(BaseModel):
    text: str


class EchoTask(Task[TaskOptions, _Echo]):
    name = "echo"
    aliases = ("eco", "repetición", "help")
    options_model = TaskOptions
    result_model = _Echo

    def build_messages(
        self, text: str, options: TaskOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        return [{"role": "user", "content": text}]

    def parse(self, raw: str, options: TaskOptions, ctx: TaskContext) -> _Echo:
        return _Echo(text=raw)

    def render(self, result: _Echo) -> str:
        return result.text


def test_every_task_name_and_valid_alias_is_a_command() -> None:
    commands = task_commands(TaskRegistry.discover())
    assert commands["resumir"].name == commands["summarize"].name == "summarize"
    assert commands["traducir"].name == "translate" and commands["classify"].name == "classify"
    assert "clasificación" not in commands  # not a valid Telegram command name

    echo = task_commands(TaskRegistry([EchoTask()]))
    # A new plugin gets its commands with no bot change; fixed commands keep their meaning.
    assert set(echo) == {"echo", "eco"}
    assert "help" in FIXED_COMMANDS
