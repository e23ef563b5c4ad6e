"""Maintenance of the history table: monthly partitions ahead of time, retention, statistics.

PostgreSQL: `history` is range-partitioned by month on `created_at` (migration 0001) with a DEFAULT
partition that catches rows no monthly partition covers. Maintenance creates `history_YYYY_MM`
partitions `ahead` months in advance (moving any rows that already landed in the default partition
for that month), and retention detaches and drops whole months older than the cut-off, which is
instant and leaves no bloat, unlike DELETE. SQLite keeps a plain table; retention there is DELETE.

Several replicas may run maintenance at once; a transaction-level advisory lock lets one of them
do the work and the others skip.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.history.models import HistoryRecord

logger = logging.getLogger(__name__)

PARENT = "history"
DEFAULT_PARTITION = "history_default"
MONTHLY = re.compile(r"^history_(\d{4})_(\d{2})$")
# Any 64-bit constant of our own: "history maintenance is running".
ADVISORY_LOCK_KEY = 0x6869_7374_6D61_696E  # "histmain"
# DDL on the parent briefly needs a strong lock; never queue behind a long query for long.
LOCK_TIMEOUT = "10s"


@dataclass
class MaintenanceReport:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_rows: int = 0
    deleted_rows: int = 0
    skipped: bool = False  # another process held the maintenance lock

    def summary(self) -> str:
        if self.skipped:
            return "history maintenance: skipped (another process is running it)"
        return (
            f"history maintenance: created {self.created or 'none'}, "
            f"dropped {self.dropped or 'none'}, moved {self.moved_rows} rows out of the default "
            f"partition, deleted {self.deleted_rows} expired rows"
        )


def month_start(day: date, offset: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def partition_name(start: date) -> str:
    return f"history_{start:%Y_%m}"


def _bound(day: date) -> str:
    # Explicit UTC, so the bounds don't depend on the server's or the session's TimeZone.
    return f"'{day.isoformat()} 00:00:00+00'"


async def monthly_partitions(conn: AsyncConnection) -> dict[str, date]:
    """Existing monthly partitions of `history`: name → first day of its month."""
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE p.relname = :parent AND n.nspname = current_schema()"
        ),
        {"parent": PARENT},
    )
    found: dict[str, date] = {}
    for (name,) in rows:
        if match := MONTHLY.match(name):
            found[name] = date(int(match.group(1)), int(match.group(2)), 1)
    return found


async def _create_month(conn: AsyncConnection, start: date) -> int:
    """Create one monthly partition; returns the rows moved out of the default partition."""
    name, end = partition_name(start), month_start(start, 1)
    in_range = f"created_at >= {_bound(start)} AND created_at < {_bound(end)}"
    stranded = await conn.scalar(text(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE {in_range}"))
    if not stranded:
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} "
                f"FOR VALUES FROM ({_bound(start)}) TO ({_bound(end)})"
            )
        )
        return 0
    # Rows of this month already sit in the default partition (maintenance did not run in time):
    # attaching a partition over them would fail, so move them into it first, atomically.
    await conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    await conn.execute(
        text(f"INSERT INTO {name} SELECT * FROM {DEFAULT_PARTITION} WHERE {in_range}")
    )
    await conn.execute(text(f"DELETE FROM {DEFAULT_PARTITION} WHERE {in_range}"))
    await conn.execute(
        text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({_bound(start)}) TO ({_bound(end)})"
        )
    )
    return int(stranded)


async def _locked(conn: AsyncConnection) -> bool:
    await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    acquired = await conn.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
    )
    return bool(acquired)


async def ensure_partitions(
    engine: AsyncEngine, *, ahead: int, now: datetime | None = None
) -> MaintenanceReport:
    """Monthly partitions from last month to `ahead` months after this one (PostgreSQL only)."""
    report = MaintenanceReport()
    if engine.dialect.name != "postgresql":
        return report
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    async with engine.begin() as conn:
        if not await _locked(conn):
            report.skipped = True
            return report
        existing = await monthly_partitions(conn)
        for offset in range(-1, ahead + 1):
            start = month_start(today, offset)
            name = partition_name(start)
            if name in existing:
                continue
            report.moved_rows += await _create_month(conn, start)
            report.created.append(name)
    if report.created:
        logger.info("history partitions created", extra={"partitions": report.created})
    return report


async def apply_retention(
    engine: AsyncEngine, *, days: int, now: datetime | None = None
) -> MaintenanceReport:
    """Drop history older than `days` (0: keep everything).

    PostgreSQL: monthly partitions that end on or before the cut-off are detached and dropped;
    expired rows in the default partition are deleted. SQLite: DELETE.
    """
    report = MaintenanceReport()
    if days <= 0:
        return report
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    if engine.dialect.name != "postgresql":
        async with engine.begin() as conn:
            result = await conn.execute(
                delete(HistoryRecord).where(HistoryRecord.created_at < cutoff)
            )
            report.deleted_rows = int(result.rowcount or 0)
        return report
    async with engine.begin() as conn:
        if not await _locked(conn):
            report.skipped = True
            return report
        for name, start in sorted((await monthly_partitions(conn)).items()):
            end = month_start(start, 1)
            if datetime(end.year, end.month, end.day, tzinfo=UTC) <= cutoff:
                await conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
                await conn.execute(text(f"DROP TABLE {name}"))
                report.dropped.append(name)
        result = await conn.execute(
            text(f"DELETE FROM {DEFAULT_PARTITION} WHERE created_at < :cutoff"),
            {"cutoff": cutoff},
        )
        report.deleted_rows = int(result.rowcount or 0)
    if report.dropped:
        logger.info("history partitions dropped", extra={"partitions": report.dropped})
    return report


async def maintain(
    engine: AsyncEngine, *, ahead: int, retention_days: int, now: datetime | None = None
) -> MaintenanceReport:
    """Partitions ahead, then retention: what the periodic job and `assistant history maintain`
    run."""
    created = await ensure_partitions(engine, ahead=ahead, now=now)
    expired = await apply_retention(engine, days=retention_days, now=now)
    return MaintenanceReport(
        created=created.created,
        dropped=expired.dropped,
        moved_rows=created.moved_rows,
        deleted_rows=expired.deleted_rows,
        skipped=created.skipped or expired.skipped,
    )


async def optimize(engine: AsyncEngine) -> list[str]:
    """Refresh planner statistics and reclaim space; returns what was run."""
    # VACUUM refuses to run inside a transaction block.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    statements = (
        ["VACUUM (ANALYZE)"]
        if engine.dialect.name == "postgresql"
        else ["ANALYZE", "VACUUM", "PRAGMA optimize"]
    )
    async with autocommit.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    return statements
