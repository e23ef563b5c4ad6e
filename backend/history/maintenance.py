"""Runs history maintenance (partitions ahead, retention) at start-up and then periodically.

A background task of the app lifespan; it never blocks start-up and a failed run (database down)
is only logged: the DEFAULT partition takes any row a missing monthly partition would have taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from backend.core.config import Settings
from backend.db.partitions import MaintenanceReport, maintain

logger = logging.getLogger(__name__)


async def run_maintenance(engine: AsyncEngine, settings: Settings) -> MaintenanceReport:
    return await maintain(
        engine,
        ahead=settings.history_partitions_ahead,
        retention_days=settings.history_retention_days,
    )


class MaintenanceLoop:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="history-maintenance")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        interval = self._settings.history_maintenance_interval
        while True:
            try:
                report = await run_maintenance(self._engine, self._settings)
                self.runs += 1
                logger.info(report.summary())
            except Exception as exc:
                logger.warning("history maintenance failed", extra={"error": type(exc).__name__})
            if not interval:
                return
            await asyncio.sleep(interval)
