"""translate (traducir): needs an LLM; there is no offline translation.

A text whose translation would not fit one answer (OPENAI_MAX_TOKENS) or one context
(LLM_CONTEXT_TOKENS) is split at paragraph (then line, sentence...) boundaries; the pieces are
translated in parallel and put back in their order, with the original whitespace between them, so
paragraphs, line breaks and order are kept.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from backend.llm.chunking import PROMPT_OVERHEAD_TOKENS, Chunk, chunk_text, map_limited
from backend.llm.schemas import ChatMessage, LLMClient
from backend.offline.tokens import estimate_tokens
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

_ISO_639_1 = re.compile(r"^[a-z]{2}$")
# Our token estimate runs ~25% high (see offline/tokens.py), so a chunk of 80% of the answer budget
# in estimated tokens leaves the translation (often longer than its source) some room.
ANSWER_SHARE = 0.8


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
        return _messages(text, options, ctx)

    async def run_llm(
        self, llm: LLMClient, text: str, options: TranslateOptions, ctx: TaskContext
    ) -> TranslationResult:
        limits = ctx.limits
        budget = max(
            32,
            min(
                (limits.context_tokens - PROMPT_OVERHEAD_TOKENS) // 2,
                int(limits.output_tokens * ANSWER_SHARE),
            ),
        )
        if estimate_tokens(text) <= budget:
            return await super().run_llm(llm, text, options, ctx)
        chunks = chunk_text(text, budget)
        total = sum(1 for chunk in chunks if chunk.body)

        async def translate(index: int, chunk: Chunk) -> str:
            if not chunk.body:
                return chunk.lead + chunk.trail
            part = sum(1 for c in chunks[:index] if c.body) + 1
            messages = _messages(chunk.body, options, ctx, part=(part, total))
            completion = await llm.complete(messages)
            return chunk.lead + _clean(completion.text) + chunk.trail

        pieces = await map_limited(chunks, translate, limits.chunk_concurrency)
        return self.parse("".join(pieces), options, ctx)

    def parse(self, raw: str, options: TranslateOptions, ctx: TaskContext) -> TranslationResult:
        translation = _clean(raw)
        if not translation:
            raise LLMBadOutput("The LLM returned an empty translation.")
        return TranslationResult(
            translation=translation,
            source_language=options.source_language or ctx.language,
            target_language=options.target_language,
        )

    def render(self, result: TranslationResult) -> str:
        return result.translation


def _clean(raw: str) -> str:
    translation = raw.strip()
    if translation.startswith("<text>") and translation.endswith("</text>"):
        translation = translation[len("<text>") : -len("</text>")].strip()
    return translation


def _messages(
    text: str, options: TranslateOptions, ctx: TaskContext, part: tuple[int, int] | None = None
) -> list[ChatMessage]:
    source = options.source_language or ctx.language
    source_part = f" from '{source}'" if source else ""
    part_note = (
        f" The text is part {part[0]} of {part[1]} of a longer document: translate just this part."
        if part
        else ""
    )
    system = (
        f"You are a translator. Translate the text{source_part} into the language with ISO "
        f"639-1 code '{options.target_language}'. Keep paragraphs, line breaks and formatting."
        f"{part_note} Answer with the translation only. {DATA_NOT_INSTRUCTIONS}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]


TASK = TranslateTask()
