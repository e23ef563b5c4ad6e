"""sentiment (sentimiento): positive, neutral or negative, with a score in [-1, 1].

With the LLM: structured output, validated (the label must agree with the score's sign) and
repaired once. Offline: a Spanish/English lexicon scorer with negation (backend/offline/sentiment).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field

from backend.llm.chunking import map_limited, split_text, text_budget
from backend.llm.schemas import ChatMessage, LLMClient
from backend.llm.structured import (
    StructuredOutputError,
    complete_structured,
    schema_format,
    validate_answer,
)
from backend.offline.sentiment import NEUTRAL_BAND, label_for, score_sentiment
from backend.offline.tokens import estimate_tokens
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    wrap_text,
)

# A label, a score and five short phrases fit easily.
ANSWER_TOKENS = 256


class SentimentOptions(TaskOptions):
    pass


class SentimentResult(BaseModel):
    label: Literal["positive", "neutral", "negative"]
    score: float = Field(ge=-1, le=1, description="-1 very negative … 0 neutral … 1 very positive.")
    evidence: list[str] = Field(
        default_factory=list, description="Words or short phrases that carry the sentiment."
    )


def _consistent(result: SentimentResult) -> SentimentResult:
    """A 'positive' label with a negative score (or the reverse) is a confused answer."""
    if (result.label == "positive" and result.score < 0) or (
        result.label == "negative" and result.score > 0
    ):
        raise ValueError(f"label '{result.label}' contradicts score {result.score}")
    return result


class SentimentTask(Task[SentimentOptions, SentimentResult]):
    name = "sentiment"
    aliases = ("sentimiento", "sentimientos", "opinion", "opinión")
    title = "Sentiment"
    description = "Positive, neutral or negative, with a score from -1 to 1."
    mode_prompt = "¿Qué texto quieres analizar (sentimiento)?"
    options_model = SentimentOptions
    result_model = SentimentResult
    json_output = True

    def build_messages(
        self, text: str, options: SentimentOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        system = (
            "You analyse the sentiment of texts. Return JSON with label (positive, neutral or "
            "negative), score (a number from -1, very negative, to 1, very positive; near 0 for "
            f"neutral, |score| <= {NEUTRAL_BAND}) and evidence (up to 5 words or short phrases "
            f"from the text that carry the sentiment). {DATA_NOT_INSTRUCTIONS}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    async def run_llm(
        self, llm: LLMClient, text: str, options: SentimentOptions, ctx: TaskContext
    ) -> SentimentResult:
        limits = ctx.limits
        schema = schema_format("sentiment", SentimentResult.model_json_schema())
        # The instructions and the schema (response_format or prompt) travel with every call.
        budget = text_budget(
            limits.context_tokens,
            ANSWER_TOKENS,
            *(m["content"] for m in self.build_messages("", options, ctx)),
            json.dumps(schema, separators=(",", ":")),
        )
        # A text over the context: each chunk is scored and the scores averaged by length.
        chunks = split_text(text, budget) if estimate_tokens(text) > budget else [text]

        async def one(index: int, chunk: str) -> SentimentResult:
            return await complete_structured(
                llm,
                self.build_messages(chunk, options, ctx),
                SentimentResult,
                name="sentiment",
                mode=limits.structured_output,
                check=_consistent,
                max_tokens=ANSWER_TOKENS,
            )

        parts = await map_limited(chunks, one, limits.chunk_concurrency)
        if len(parts) == 1:
            return parts[0]
        weights = [estimate_tokens(chunk) for chunk in chunks]
        score = round(
            sum(p.score * w for p, w in zip(parts, weights, strict=True)) / sum(weights), 3
        )
        evidence = list(dict.fromkeys(e for p in parts for e in p.evidence))[:5]
        return SentimentResult(label=label_for(score), score=score, evidence=evidence)

    def parse(self, raw: str, options: SentimentOptions, ctx: TaskContext) -> SentimentResult:
        try:
            return validate_answer(raw, SentimentResult, _consistent)
        except StructuredOutputError as exc:
            raise LLMBadOutput(exc.reason, details={"errors": exc.errors}) from exc

    def render(self, result: SentimentResult) -> str:
        return f"{result.label} ({result.score:+.2f})"

    def run_offline(
        self, text: str, options: SentimentOptions, ctx: TaskContext
    ) -> SentimentResult:
        found = score_sentiment(text)
        evidence = list(dict.fromkeys([*found.positive, *found.negative]))[:5]
        return SentimentResult(label=found.label, score=found.score, evidence=evidence)


TASK = SentimentTask()
