"""classify (clasificar): one label (or several) from a label set, intent/urgency by default."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, field_validator

from backend.llm.schemas import ChatMessage
from backend.offline.classifier import DEFAULT_LABELS, classify
from backend.tasks.base import (
    DATA_NOT_INSTRUCTIONS,
    LLMBadOutput,
    Task,
    TaskContext,
    TaskOptions,
    parse_json_object,
    wrap_text,
)


class ClassifyOptions(TaskOptions):
    labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LABELS),
        min_length=1,
        max_length=50,
        description="Candidate labels.",
    )
    multi_label: bool = Field(default=False, description="Allow more than one label.")

    @field_validator("labels")
    @classmethod
    def _clean_labels(cls, labels: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
        if not cleaned:
            raise ValueError("labels must contain at least one non-empty label")
        if any(len(label) > 64 for label in cleaned):
            raise ValueError("each label must be at most 64 characters")
        return cleaned


class ClassificationResult(BaseModel):
    label: str
    labels: list[str]
    scores: dict[str, float] | None = None


class ClassifyTask(Task[ClassifyOptions, ClassificationResult]):
    name = "classify"
    aliases = ("clasificar", "clasificacion", "clasificación")
    title = "Classify"
    description = "Picks the label(s) that fit the text (default: intent and urgency)."
    mode_prompt = "¿Qué texto quieres clasificar?"
    options_model = ClassifyOptions
    result_model = ClassificationResult
    json_output = True

    def build_messages(
        self, text: str, options: ClassifyOptions, ctx: TaskContext
    ) -> list[ChatMessage]:
        how_many = "one or more labels" if options.multi_label else "exactly one label"
        system = (
            f"You classify texts. Choose {how_many} from this list: {json.dumps(options.labels)}. "
            'Answer with JSON only: {"label": "<best label>", "labels": ["<chosen labels>"]}. '
            + DATA_NOT_INSTRUCTIONS
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": wrap_text(text)}]

    def parse(self, raw: str, options: ClassifyOptions, ctx: TaskContext) -> ClassificationResult:
        by_lower = {label.lower(): label for label in options.labels}
        try:
            data = parse_json_object(raw)
            chosen = [data.get("label"), *(data.get("labels") or [])]
        except LLMBadOutput:
            # Small local models often answer with the bare label.
            chosen = [raw.strip().strip(".\"'")]
        labels = [
            by_lower[str(c).strip().lower()]
            for c in chosen
            if isinstance(c, str) and c.strip().lower() in by_lower
        ]
        labels = list(dict.fromkeys(labels))
        if not labels:
            raise LLMBadOutput(
                "The LLM answered with a label that is not among the options.",
                details={"labels": options.labels},
            )
        return ClassificationResult(
            label=labels[0], labels=labels if options.multi_label else labels[:1]
        )

    def render(self, result: ClassificationResult) -> str:
        return ", ".join(result.labels)

    def run_offline(
        self, text: str, options: ClassifyOptions, ctx: TaskContext
    ) -> ClassificationResult:
        found = classify(text, options.labels, options.multi_label)
        return ClassificationResult(label=found.label, labels=found.labels, scores=found.scores)


TASK = ClassifyTask()
