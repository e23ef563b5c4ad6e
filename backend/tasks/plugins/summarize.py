"""summarize (resumir): a short summary in the text's own language.

Texts longer than the model's context (LLM_CONTEXT_TOKENS) are summarized by map-reduce: each chunk
gets a partial summary (in parallel, in order), and the partial summaries are summarized again,
level by level, until they fit one final call.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.llm.chunking import input_budget, map_limited, split_text
from backend.llm.schemas import ChatMessage, LLMClient
from backend.offline.summarizer import summarize
from backend.offline.tokens import estimate_tokens
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

# Reduce levels before giving up shrinking (each level divides the text many times over).
MAX_REDUCE_LEVELS = 4
# Sentences asked of each partial summary: enough to keep the chunk's facts for the final pass.
PARTIAL_SENTENCES = 5


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
        return _messages(text, options.max_sentences, ctx)

    async def run_llm(
        self, llm: LLMClient, text: str, options: SummarizeOptions, ctx: TaskContext
    ) -> SummaryResult:
        limits = ctx.limits
        reserve = min(limits.output_tokens, limits.context_tokens // 4)
        budget = input_budget(limits.context_tokens, reserve)
        level = 0
        while estimate_tokens(text) > budget and level < MAX_REDUCE_LEVELS:
            chunks = split_text(text, budget)
            total = len(chunks)

            async def partial(index: int, chunk: str, total: int = total) -> str:
                messages = _messages(chunk, PARTIAL_SENTENCES, ctx, part=(index + 1, total))
                answer = (await llm.complete(messages, max_tokens=reserve)).text.strip()
                return answer or chunk[: reserve * 3]

            partials = await map_limited(chunks, partial, limits.chunk_concurrency)
            # Paragraphs keep the parts apart (and in order) for the next level's splitting.
            text = "\n\n".join(partials)
            level += 1
        final = _messages(text, options.max_sentences, ctx, combined=level > 0)
        completion = await llm.complete(final, max_tokens=reserve if level else None)
        return self.parse(completion.text, options, ctx)

    def parse(self, raw: str, options: SummarizeOptions, ctx: TaskContext) -> SummaryResult:
        if not raw.strip():
            raise LLMBadOutput("The LLM returned an empty summary.")
        return SummaryResult(summary=raw.strip())

    def render(self, result: SummaryResult) -> str:
        return result.summary

    def run_offline(self, text: str, options: SummarizeOptions, ctx: TaskContext) -> SummaryResult:
        return SummaryResult(summary=summarize(text, options.max_sentences, ctx.language))


def _messages(
    text: str,
    sentences: int,
    ctx: TaskContext,
    *,
    part: tuple[int, int] | None = None,
    combined: bool = False,
) -> list[ChatMessage]:
    language = (
        f" Write it in the text's language ({ctx.language})."
        if ctx.language
        else " Write it in the same language as the text."
    )
    context = ""
    if part:
        context = f" The text is part {part[0]} of {part[1]} of a longer document."
    elif combined:
        context = " The text is a series of partial summaries of a longer document, in order."
    system = (
        f"You summarize texts.{context} Answer with the summary only: at most "
        f"{sentences} sentences, no preamble.{language} {DATA_NOT_INSTRUCTIONS}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]


TASK = SummarizeTask()
