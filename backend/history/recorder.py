"""Writes history records. Infrastructure, not a service: it owns its short transactions so that a
task's answer and its record don't depend on the request's own session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.history.models import HistoryRecord


class HistoryRecorder:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def record(self, record: HistoryRecord) -> None:
        async with self._sessionmaker() as session, session.begin():
            session.add(record)
