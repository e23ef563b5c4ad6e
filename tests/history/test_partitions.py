"""Partition maintenance on a scratch PostgreSQL database (partitions ahead, rows rescued from the
default partition, retention by whole months, one maintainer at a time) and SQLite retention;
`assistant history maintain` and `assistant db optimize`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from typer.testing import CliRunner

from backend.cli import app as cli
from backend.db import migrate
from backend.db.partitions import (
    ADVISORY_LOCK_KEY,
    apply_retention,
    ensure_partitions,
    month_start,
    partition_name,
)
from tests.conftest import PG_ADMIN_DSN, AppFactory, _admin, _asyncpg_url, app_of

NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def scratch_url() -> Iterator[str]:
    name = f"wa_part_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _asyncpg_url(PG_ADMIN_DSN, name)
    migrate.upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(scratch_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(scratch_url)
    yield engine
    await engine.dispose()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _partitions(url: str) -> dict[str, int]:
    """Partition name → rows in it."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        names = [
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'history'"
            )
        ]
        return {n: int(await conn.fetchval(f"SELECT count(*) FROM {n}")) for n in names}
    finally:
        await conn.close()


async def _insert(url: str, *stamps: datetime) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.executemany(
            "INSERT INTO history (id, created_at, api_key_id, task, input_text, output_text, "
            "result, model) VALUES ($1, $2, 1, 'summarize', 'in', 'out', '{}', 'm')",
            [(uuid.uuid4(), stamp) for stamp in stamps],
        )
    finally:
        await conn.close()


async def test_partitions_are_created_ahead_and_idempotently(
    engine: AsyncEngine, scratch_url: str
) -> None:
    report = await ensure_partitions(engine, ahead=6, now=NOW)
    expected = {partition_name(month_start(NOW.date(), k)) for k in range(-1, 7)}
    assert expected <= set(await _partitions(scratch_url))
    assert set(report.created) <= expected and report.created
    again = await ensure_partitions(engine, ahead=6, now=NOW)
    assert again.created == [] and not again.skipped


async def test_rows_stranded_in_the_default_partition_move_into_their_month(
    engine: AsyncEngine, scratch_url: str
) -> None:
    far = NOW + timedelta(days=300)  # no partition yet: the row lands in history_default
    await ensure_partitions(engine, ahead=1, now=NOW)
    await _insert(scratch_url, far, far + timedelta(hours=1))
    assert (await _partitions(scratch_url))["history_default"] == 2

    report = await ensure_partitions(engine, ahead=1, now=far)
    month = partition_name(month_start(far.date()))
    assert month in report.created and report.moved_rows == 2
    after = await _partitions(scratch_url)
    assert after[month] == 2 and after["history_default"] == 0


async def test_retention_drops_whole_old_months_and_keeps_recent_rows(
    engine: AsyncEngine, scratch_url: str
) -> None:
    old = NOW - timedelta(days=400)
    await ensure_partitions(engine, ahead=2, now=old)
    await ensure_partitions(engine, ahead=1, now=NOW)
    await _insert(scratch_url, old, old + timedelta(days=20), NOW - timedelta(days=2))
    # A very old row in the default partition (no month partition covered it).
    await _insert(scratch_url, NOW - timedelta(days=900))

    report = await apply_retention(engine, days=365, now=NOW)
    remaining = await _partitions(scratch_url)
    old_month = partition_name(month_start(old.date()))
    assert old_month in report.dropped and old_month not in remaining
    assert report.deleted_rows == 1 and remaining["history_default"] == 0
    assert remaining[partition_name(month_start(NOW.date()))] == 1
    # Months that still hold rows younger than the cut-off are kept whole.
    cutoff_month = partition_name(month_start((NOW - timedelta(days=365)).date()))
    assert cutoff_month not in report.dropped

    nothing = await apply_retention(engine, days=0, now=NOW)
    assert nothing.dropped == [] and nothing.deleted_rows == 0


async def test_only_one_maintainer_at_a_time(engine: AsyncEngine, scratch_url: str) -> None:
    holder = await asyncpg.connect(_dsn(scratch_url))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        report = await ensure_partitions(engine, ahead=12, now=NOW)
        assert report.skipped and report.created == []
    finally:
        await holder.close()


async def test_sqlite_retention_deletes_old_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_async_engine(url)
    try:
        from sqlalchemy import text

        from backend.history.rows import HISTORY_TABLE

        async with engine.begin() as conn:
            for stamp in (NOW - timedelta(days=40), NOW - timedelta(days=5)):
                await conn.execute(
                    HISTORY_TABLE.insert().values(
                        id=uuid.uuid4(),
                        created_at=stamp,
                        api_key_id=1,
                        task="summarize",
                        input_text="in",
                        output_text="out",
                        result={},
                        model="m",
                    )
                )
        created = await ensure_partitions(engine, ahead=3, now=NOW)
        assert created.created == []  # a plain table on SQLite
        report = await apply_retention(engine, days=30, now=NOW)
        assert report.deleted_rows == 1
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM history")) == 1
    finally:
        await engine.dispose()


def test_cli_maintain_and_optimize(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    maintained = runner.invoke(cli, ["history", "maintain", "--ahead", "14"])
    assert maintained.exit_code == 0, maintained.output
    assert "created ['history_" in maintained.output
    assert len(asyncio.run(_partitions(scratch_url))) >= 15
    optimized = runner.invoke(cli, ["db", "optimize"])
    assert optimized.exit_code == 0, optimized.output
    assert "VACUUM (ANALYZE)" in optimized.output


async def test_the_app_runs_maintenance_at_start_up(make_client: AppFactory) -> None:
    async with make_client(history_partitions_ahead=9) as client:
        maintenance = app_of(client).state.resources.recorder.maintenance
        for _ in range(200):
            if maintenance.runs:
                break
            await asyncio.sleep(0.05)
        assert maintenance.runs == 1
        resources = app_of(client).state.resources
        if resources.engine.dialect.name == "postgresql":
            ahead = partition_name(month_start(datetime.now(UTC).date(), 9))
            assert ahead in await _partitions(resources.settings.effective_database_url)
