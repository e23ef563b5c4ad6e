"""Writes history records: group commit to the database, a durable spool when it is down.

`await recorder.record(row)` returns once the record is durable: committed in the database, or
stored in the spool (Redis stream or fsync'ed file) when the database is unreachable. Records from
concurrent requests share one multi-row INSERT (group commit): while one batch is being written the
next one fills up, so under load the writer batches by itself and a lone request waits only for its
own INSERT. `HISTORY_BATCH_MAX_WAIT_MS` can add a small wait to build bigger batches.

A background replayer writes the spool back once the database answers again; rows are idempotent
on their primary key (id, created_at), so a record replayed twice is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.core.config import Settings
from backend.core.errors import ServiceUnavailable
from backend.history.maintenance import MaintenanceLoop
from backend.history.models import HistoryRecord
from backend.history.rows import Row, row_values
from backend.history.spool import SPOOL_DIR, FileSpool, HistorySpool, RedisSpool, SpoolUnavailable
from backend.history.store import insert_rows, is_unavailable
from backend.observability.metrics import HISTORY_SPOOL_DEPTH

logger = logging.getLogger(__name__)

# After a failed write, new records go straight to the spool for this long, unless the replayer
# sees the database back first: requests don't each pay for a connection attempt.
DOWN_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    batch_max_rows: int = 500
    batch_max_wait: float = 0.0
    write_timeout: float = 5.0
    replay_interval: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RecorderConfig:
        return cls(
            batch_max_rows=settings.history_batch_max_rows,
            batch_max_wait=settings.history_batch_max_wait_ms / 1000,
            write_timeout=settings.history_write_timeout,
            replay_interval=settings.history_replay_interval,
        )


class HistoryUnavailable(ServiceUnavailable):
    code = "history_unavailable"


_Pending = tuple[Row | None, "asyncio.Future[None]"]


class HistoryRecorder:
    def __init__(
        self,
        engine: AsyncEngine,
        spool: HistorySpool,
        config: RecorderConfig | None = None,
        maintenance: MaintenanceLoop | None = None,
    ) -> None:
        self._engine = engine
        self.spool = spool
        self._config = config or RecorderConfig()
        # Partition upkeep lives with the write path so the lifespan starts and stops one thing.
        self.maintenance = maintenance
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._replayer: asyncio.Task[None] | None = None
        self._down_until = 0.0
        self.spooled = 0  # records that went to the spool since start (for tests and logs)

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: AsyncEngine, redis: Redis | None
    ) -> HistoryRecorder:
        redis_spool = (
            RedisSpool(redis, settings.redis_key_prefix)
            if redis is not None and settings.history_spool == "auto"
            else None
        )
        spool = HistorySpool(FileSpool(settings.data_dir / SPOOL_DIR), redis_spool)
        return cls(
            engine,
            spool,
            RecorderConfig.from_settings(settings),
            MaintenanceLoop(engine, settings),
        )

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the writer and the replayer (in the app lifespan)."""
        self._closing = False
        self._writer = asyncio.create_task(self._write_loop(), name="history-writer")
        self._replayer = asyncio.create_task(self._replay_loop(), name="history-replayer")
        if self.maintenance is not None:
            self.maintenance.start()

    async def close(self) -> None:
        """Write (or spool) everything still queued, then stop."""
        if self.maintenance is not None:
            await self.maintenance.close()
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None

    # --- write path --------------------------------------------------------------------------
    async def record(self, record: HistoryRecord) -> None:
        """Return once the record is in the database or in the durable spool."""
        row = row_values(record)
        if self._writer is None or self._writer.done():
            # Not started (a script, the bench): write this one record inline.
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            await self._persist([(row, future)])
            return future.result()
        await self._enqueue(row)

    async def flush(self) -> None:
        """Wait until every record queued so far is durable."""
        if self._writer is not None and not self._writer.done():
            await self._enqueue(None)

    async def _enqueue(self, row: Row | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._wakeup.set()
        # A caller that goes away (client disconnect) must not take its record with it.
        await asyncio.shield(future)

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            wait = self._config.batch_max_wait
            if wait and len(self._pending) < self._config.batch_max_rows and not self._closing:
                await asyncio.sleep(wait)
            size = self._config.batch_max_rows
            batch, self._pending = self._pending[:size], self._pending[size:]
            if self._pending or self._closing:
                self._wakeup.set()
            await self._persist(batch)

    async def _persist(self, batch: list[_Pending]) -> None:
        """Store a batch and settle each caller's future (never raises)."""
        rows = [row for row, _ in batch if row is not None]
        try:
            await self._store(rows)
        except Exception as exc:
            if len(rows) > 1 and not isinstance(exc, SpoolUnavailable):
                # One bad row must not fail its neighbours: retry them one by one.
                for item in batch:
                    await self._persist([item])
                return
            error = (
                HistoryUnavailable("The history record could not be stored; try again later.")
                if isinstance(exc, SpoolUnavailable)
                else exc
            )
            logger.error("history write failed", extra={"error": type(exc).__name__})
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    async def _store(self, rows: list[Row]) -> None:
        if not rows:
            return
        if time.monotonic() >= self._down_until:
            try:
                async with asyncio.timeout(self._config.write_timeout):
                    await insert_rows(self._engine, rows)
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self._down_until = time.monotonic() + DOWN_BACKOFF_S
                logger.warning(
                    "database unavailable; spooling history records",
                    extra={"error": type(exc).__name__, "records": len(rows)},
                )
        # The timeout above may have hit a commit whose answer was lost: the replay is then a
        # no-op thanks to ON CONFLICT DO NOTHING.
        where = await self.spool.push(rows)
        self.spooled += len(rows)
        logger.info("history records spooled", extra={"spool": where, "records": len(rows)})

    @property
    def database_down(self) -> bool:
        return time.monotonic() < self._down_until

    # --- replay ------------------------------------------------------------------------------
    async def spool_depth(self) -> dict[str, int | None]:
        """Records waiting per spool; also sets the `assistant_history_spool_depth` gauge."""
        depths = await self.spool.depth()
        HISTORY_SPOOL_DEPTH.set(sum(d for d in depths.values() if d))
        return depths

    async def spool_status(self, limit_s: float) -> dict[str, Any]:
        """For /ready: total depth and per-spool counts (None where a spool can't be read)."""
        try:
            async with asyncio.timeout(limit_s):
                depths = await self.spool_depth()
        except TimeoutError:
            return {"depth": None, "database_down": self.database_down}
        known = [d for d in depths.values() if d is not None]
        return {
            "depth": sum(known) if len(known) == len(depths) else None,
            **depths,
            "database_down": self.database_down,
        }

    async def replay(self) -> int:
        """Write every spooled record to the database; return how many were replayed.

        Raises when the database is still unreachable (the records stay in the spool).
        """

        async def write(rows: list[Row]) -> None:
            async with asyncio.timeout(self._config.write_timeout):
                await insert_rows(self._engine, rows)

        replayed = await self.spool.drain(write, self._config.batch_max_rows)
        self._down_until = 0.0
        if replayed:
            logger.info("history spool replayed", extra={"records": replayed})
        return replayed

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(self._config.write_timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def _replay_loop(self) -> None:
        while True:
            await asyncio.sleep(self._config.replay_interval)
            try:
                depth = sum(d for d in (await self.spool_depth()).values() if d)
                if depth:
                    await self.replay()
                    await self.spool_depth()
                elif self.database_down and await self._database_answers():
                    self._down_until = 0.0
            except Exception as exc:
                # Still down (or Redis flapping): keep the records, try again next round.
                level = logging.INFO if is_unavailable(exc) else logging.ERROR
                logger.log(level, "history replay failed", extra={"error": type(exc).__name__})
