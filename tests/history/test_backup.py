"""`assistant db backup` / `assistant db restore` against scratch databases: what goes in comes
back out, in a new database or over an existing one; old backups are pruned."""

from __future__ import annotations

import asyncio
import gzip
import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from backend.cli import app as cli
from backend.db import migrate
from backend.db.backup import STAMP
from tests.conftest import PG_ADMIN_DSN, _admin, _asyncpg_url


@pytest.fixture
def databases() -> Iterator[list[str]]:
    """Names of scratch databases this test creates; all dropped afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _create(databases: list[str]) -> str:
    name = f"wa_bak_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    databases.append(name)
    return _asyncpg_url(PG_ADMIN_DSN, name)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _fill(url: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO api_keys (name, key_hash, prefix, created_at) "
            "VALUES ('k', 'hash', 'p', now())"
        )
        await conn.executemany(
            "INSERT INTO history (id, created_at, api_key_id, chat_id, task, input_text, "
            "output_text, result, model) VALUES ($1, $2, 1, 5, 'translate', $3, 'out', "
            "'{\"a\": 1}', 'm')",
            [
                (uuid.uuid4(), datetime.now(UTC) - timedelta(days=d), f"texto ñ {d}")
                for d in (0, 1, 40, 800)  # current month, last month, older, default partition
            ],
        )
    finally:
        await conn.close()


async def _snapshot(url: str) -> tuple[list[tuple[object, ...]], list[str], int]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        rows = [
            tuple(r)
            for r in await conn.fetch(
                "SELECT id, created_at, chat_id, task, input_text, result::text FROM history "
                "ORDER BY id"
            )
        ]
        partitions = sorted(
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'history'"
            )
        )
        view = int(await conn.fetchval("SELECT count(*) FROM consultas_ia"))
        return rows, partitions, view
    finally:
        await conn.close()


def test_backup_then_restore_into_a_new_database_and_over_an_existing_one(
    databases: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _create(databases)
    migrate.upgrade(source)
    asyncio.run(_fill(source))
    before = asyncio.run(_snapshot(source))
    assert len(before[0]) == 4

    backups = tmp_path / "backups"
    backups.mkdir()
    stale = backups / f"assistant-{datetime.now(UTC) - timedelta(days=8):{STAMP}}.sql.gz"
    recent = backups / f"assistant-{datetime.now(UTC) - timedelta(days=2):{STAMP}}.sql.gz"
    unrelated = backups / "notes.txt"
    for path in (stale, recent, unrelated):
        path.write_bytes(b"x")

    runner = CliRunner()
    monkeypatch.setenv("DATABASE_URL", source)
    made = runner.invoke(cli, ["db", "backup", "--dir", str(backups), "--keep-days", "7"])
    assert made.exit_code == 0, made.output
    dump = Path(made.output.strip().splitlines()[-1])
    assert dump.parent == backups and dump.name.endswith(".sql.gz")
    with gzip.open(dump, "rt") as handle:
        assert "PostgreSQL database dump" in handle.read(2000)
    assert not stale.exists() and recent.exists() and unrelated.exists()
    assert not list(backups.glob("*.partial"))

    # Into a brand-new, empty database.
    target = _create(databases)
    monkeypatch.setenv("DATABASE_URL", target)
    restored = runner.invoke(cli, ["db", "restore", str(dump)])
    assert restored.exit_code == 0, restored.output
    assert asyncio.run(_snapshot(target)) == before

    # Over a database that has changed since: it is back to the backup's content.
    async def scribble() -> None:
        conn = await asyncpg.connect(_dsn(target))
        try:
            await conn.execute("DELETE FROM history WHERE chat_id = 5")
        finally:
            await conn.close()

    asyncio.run(scribble())
    again = runner.invoke(cli, ["db", "restore", str(dump)])
    assert again.exit_code == 0, again.output
    assert asyncio.run(_snapshot(target)) == before


def test_restore_failures_are_reported(
    databases: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _create(databases)
    monkeypatch.setenv("DATABASE_URL", target)
    broken = tmp_path / "assistant-broken.sql.gz"
    with gzip.open(broken, "wt") as handle:
        handle.write("CREATE TABLE fine (x int);\nTHIS IS NOT SQL;\n")
    result = CliRunner().invoke(cli, ["db", "restore", str(broken)])
    assert result.exit_code == 1 and "psql failed" in result.output

    async def tables() -> int:
        conn = await asyncpg.connect(_dsn(target))
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
        finally:
            await conn.close()

    assert asyncio.run(tables()) == 0, "one transaction: nothing half-restored"
    missing = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "nope.sql.gz")])
    assert missing.exit_code == 1 and "No backup file" in missing.output


def test_sqlite_backup_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "data" / "assistant.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate.upgrade(url)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO history (id, created_at, api_key_id, task, input_text, output_text, "
            "result, model) VALUES ('a', '2026-01-01', 1, 'translate', 'hola', 'hello', '{}', 'm')"
        )
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    made = runner.invoke(cli, ["db", "backup", "--dir", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    dump = Path(made.output.strip().splitlines()[-1])
    assert dump.name.endswith(".sqlite.gz")
    os.remove(db)
    restored = runner.invoke(cli, ["db", "restore", str(dump)])
    assert restored.exit_code == 0, restored.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT texto_original FROM consultas_ia").fetchall() == [("hola",)]
