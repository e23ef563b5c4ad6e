from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field


class TaskUsage(BaseModel):
    requests: int = Field(description="Task requests answered (cached and coalesced included).")
    cached: int
    coalesced: int
    degraded: int = Field(description="Answered by the offline engine because the LLM failed.")
    upstream_calls: int = Field(description="HTTP calls made to LLM endpoints (retries included).")
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float = Field(description="Estimated from the price table (LLM_PRICES).")

    @classmethod
    def total(cls, parts: Iterable[TaskUsage]) -> TaskUsage:
        items = list(parts)
        fields = cls.model_fields
        sums = {name: sum(getattr(item, name) for item in items) for name in fields}
        sums["cost_usd"] = round(float(sums["cost_usd"]), 6)
        return cls(**sums)


class UsageReport(TaskUsage):
    since: datetime
    until: datetime
    by_task: dict[str, TaskUsage]
