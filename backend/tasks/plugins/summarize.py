"""summarize (resumir): a short summary in the text's own language."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.llm.schemas import ChatMessage
from backend.offline.summarizer import summarize
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)


class SummarizeOptions(TaskOptions):
    max_sentences: int = Field(default=3, ge=1, le=20, description="Longest summary, in sentences.")


class SummaryResult(BaseModel):
    summary: str


class SummarizeTask(Task[SummarizeOptions, SummaryResult]):
    name = "summarize"
    aliases = ("resumir", "resumen")
    title = "Summarize"
    description = "A short summary of the text, in the text's own language."
    mode_prompt = "¿Qué texto quieres resumir?"
    options_model = SummarizeOptions
    result_model = SummaryResult

    def build_messages(
        self, text: str, options: SummarizeOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        language = (
            f" Write it in the text's language ({ctx.language})."
            if ctx.language
            else (" Write it in the same language as the text.")
        )
        system = (
            "You summarize texts. Answer with the summary only: at most "
            f"{options.max_sentences} sentences, no preamble.{language} {DATA_NOT_INSTRUCTIONS}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    def parse(self, raw: str, options: SummarizeOptions, ctx: TaskContext) -> SummaryResult:
        if not raw.strip():
            raise LLMBadOutput("The LLM returned an empty summary.")
        return SummaryResult(summary=raw.strip())

    def render(self, result: SummaryResult) -> str:
        return result.summary

    def run_offline(self, text: str, options: SummarizeOptions, ctx: TaskContext) -> SummaryResult:
        return SummaryResult(summary=summarize(text, options.max_sentences, ctx.language))


TASK = SummarizeTask()
