"""translate (traducir): needs an LLM; there is no offline translation."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from backend.llm.schemas import ChatMessage
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

_ISO_639_1 = re.compile(r"^[a-z]{2}$")


def _language_code(value: str) -> str:
    code = value.strip().lower()
    if not _ISO_639_1.match(code):
        raise ValueError("must be an ISO 639-1 language code such as 'en', 'es' or 'fr'")
    return code


class TranslateOptions(TaskOptions):
    target_language: str = Field(default="en", description="ISO 639-1 code of the target language.")
    source_language: str | None = Field(
        default=None, description="ISO 639-1 code of the text's language (detected when absent)."
    )

    @field_validator("target_language")
    @classmethod
    def _target(cls, value: str) -> str:
        return _language_code(value)

    @field_validator("source_language")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else _language_code(value)


class TranslationResult(BaseModel):
    translation: str
    source_language: str | None
    target_language: str


class TranslateTask(Task[TranslateOptions, TranslationResult]):
    name = "translate"
    aliases = ("traducir", "traduccion", "traducción")
    title = "Translate"
    description = "Translates the text into the target language, keeping its formatting."
    mode_prompt = "¿Qué texto quieres traducir?"
    options_model = TranslateOptions
    result_model = TranslationResult

    def build_messages(
        self, text: str, options: TranslateOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        source = options.source_language or ctx.language
        source_part = f" from '{source}'" if source else ""
        system = (
            f"You are a translator. Translate the text{source_part} into the language with ISO "
            f"639-1 code '{options.target_language}'. Keep paragraphs, line breaks and formatting. "
            f"Answer with the translation only. {DATA_NOT_INSTRUCTIONS}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    def parse(self, raw: str, options: TranslateOptions, ctx: TaskContext) -> TranslationResult:
        translation = raw.strip()
        if translation.startswith("<text>") and translation.endswith("</text>"):
            translation = translation[len("<text>") : -len("</text>")].strip()
        if not translation:
            raise LLMBadOutput("The LLM returned an empty translation.")
        return TranslationResult(
            translation=translation,
            source_language=options.source_language or ctx.language,
            target_language=options.target_language,
        )

    def render(self, result: TranslationResult) -> str:
        return result.translation


TASK = TranslateTask()
