"""Migrations upgrade an empty database (PostgreSQL and SQLite) and downgrade cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import asyncpg

from backend.db import migrate
from tests.conftest import PG_ADMIN_DSN, _admin, _asyncpg_url


def test_postgres_upgrade_partitions_view_and_downgrade() -> None:
    name = f"wa_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _asyncpg_url(PG_ADMIN_DSN, name)
    try:
        migrate.upgrade(url)

        async def inspect() -> tuple[list[str], list[str], str]:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                partitions = [
                    r["relname"]
                    for r in await conn.fetch(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'history'"
                    )
                ]
                await conn.execute(
                    "INSERT INTO api_keys (name, key_hash, prefix, created_at) "
                    "VALUES ('t', 'h', 'p', now())"
                )
                await conn.execute(
                    "INSERT INTO history (id, created_at, api_key_id, task, input_text, "
                    "output_text, result, model) VALUES (gen_random_uuid(), now(), 1, "
                    "'summarize', 'in', 'out', '{}', 'm')"
                )
                cols = [
                    r["column_name"]
                    for r in await conn.fetch(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'consultas_ia' ORDER BY ordinal_position"
                    )
                ]
                tipo = await conn.fetchval("SELECT tipo_tarea FROM consultas_ia")
                return partitions, cols, tipo
            finally:
                await conn.close()

        partitions, cols, tipo = asyncio.run(inspect())
        assert "history_default" in partitions and len(partitions) >= 4
        assert cols == [
            "id",
            "chat_id",
            "tipo_tarea",
            "texto_original",
            "resultado",
            "idioma",
            "fecha",
        ]
        assert tipo == "resumir"
        migrate.downgrade(url, "base")
        migrate.upgrade(url)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_sqlite_upgrade_and_view(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert {"api_keys", "chat_modes", "history", "consultas_ia"} <= tables
        db.execute(
            "INSERT INTO history (id, created_at, api_key_id, task, input_text, "
            "output_text, result, model) VALUES ('a', '2026-01-01', 1, 'translate', "
            "'hola', 'hello', '{}', 'm')"
        )
        assert db.execute("SELECT tipo_tarea, texto_original FROM consultas_ia").fetchone() == (
            "traducir",
            "hola",
        )
    migrate.downgrade(f"sqlite+aiosqlite:///{path}", "base")
