"""Read access to one API key's history for tasks (the `report` task's `ctx.history`).

Implements `backend.tasks.base.HistoryReader`. Every query is filtered by the caller's API key, and
by the chat when one is given, so a task can never read someone else's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.history.models import HistoryRecord


@dataclass(frozen=True, slots=True)
class StoredEntry:
    created_at: datetime
    task: str
    input_text: str
    output_text: str
    language: str | None


class SqlHistoryReader:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def entries(
        self,
        *,
        api_key_id: int,
        chat_id: int | None,
        since: datetime,
        until: datetime,
        limit: int = 500,
    ) -> list[StoredEntry]:
        """Records in [since, until), oldest first, at most `limit` (the newest ones win)."""
        stmt = (
            select(
                HistoryRecord.created_at,
                HistoryRecord.task,
                HistoryRecord.input_text,
                HistoryRecord.output_text,
                HistoryRecord.language,
            )
            .where(
                HistoryRecord.api_key_id == api_key_id,
                HistoryRecord.created_at >= since,
                HistoryRecord.created_at < until,
            )
            .order_by(HistoryRecord.created_at.desc(), HistoryRecord.id.desc())
            .limit(limit)
        )
        if chat_id is not None:
            stmt = stmt.where(HistoryRecord.chat_id == chat_id)
        async with self._sessionmaker() as session:
            rows = (await session.execute(stmt)).all()
        entries = [
            StoredEntry(
                # SQLite hands datetimes back without their zone; they were written in UTC.
                created_at=row.created_at
                if row.created_at.tzinfo
                else row.created_at.replace(tzinfo=UTC),
                task=row.task,
                input_text=row.input_text,
                output_text=row.output_text,
                language=row.language,
            )
            for row in rows
        ]
        entries.reverse()
        return entries
