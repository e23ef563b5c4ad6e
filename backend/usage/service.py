"""Sums the caller's history into usage numbers. Always scoped to one API key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.history.models import HistoryRecord
from backend.usage.schemas import TaskUsage, UsageReport


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def month_to_date_cost(session: AsyncSession, api_key_id: int, now: datetime) -> float:
    stmt = select(func.coalesce(func.sum(HistoryRecord.cost_usd), 0.0)).where(
        HistoryRecord.api_key_id == api_key_id,
        HistoryRecord.created_at >= month_start(now),
    )
    return float((await session.execute(stmt)).scalar_one() or 0.0)


async def usage_report(
    session: AsyncSession, api_key_id: int, since: datetime, until: datetime
) -> UsageReport:
    as_int = Integer()
    stmt = (
        select(
            HistoryRecord.task,
            func.count(),
            func.sum(func.cast(HistoryRecord.cached, as_int)),
            func.sum(func.cast(HistoryRecord.coalesced, as_int)),
            func.sum(func.cast(HistoryRecord.degraded, as_int)),
            func.sum(HistoryRecord.attempts),
            func.sum(HistoryRecord.prompt_tokens),
            func.sum(HistoryRecord.completion_tokens),
            func.sum(HistoryRecord.cost_usd),
        )
        .where(
            HistoryRecord.api_key_id == api_key_id,
            HistoryRecord.created_at >= since,
            HistoryRecord.created_at < until,
        )
        .group_by(HistoryRecord.task)
        .order_by(HistoryRecord.task)
    )
    per_task = {
        task: TaskUsage(
            requests=int(requests),
            cached=int(cached or 0),
            coalesced=int(coalesced or 0),
            degraded=int(degraded or 0),
            upstream_calls=int(calls or 0),
            prompt_tokens=int(prompt or 0),
            completion_tokens=int(completion or 0),
            cost_usd=round(float(cost or 0.0), 6),
        )
        for task, requests, cached, coalesced, degraded, calls, prompt, completion, cost in (
            await session.execute(stmt)
        ).all()
    }
    total = TaskUsage.total(per_task.values())
    return UsageReport(since=since, until=until, **total.model_dump(), by_task=per_task)
