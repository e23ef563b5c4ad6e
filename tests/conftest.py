"""Shared fixtures: a real PostgreSQL database and Redis namespace per run, the fake LLM, and an
app factory that runs the real lifespan against them."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis as redis_sync
from fastapi import FastAPI

from backend.core.config import Settings
from backend.db import migrate
from backend.main import create_app
from tests.support.fake_llm import FakeLLM

PG_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
API_KEY = "test-bootstrap-key-0123456789"
AUTH = {"x-api-key": API_KEY}


def _asyncpg_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, migrated to head, dropped afterwards."""
    name = f"wa_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _asyncpg_url(PG_ADMIN_DSN, name)
    migrate.upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'assistant.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key namespace of this test's own, removed afterwards."""
    prefix = f"wa-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis_sync.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    fake_llm_server.reset()
    return fake_llm_server


@dataclass
class Stack:
    """Which real backing services an app under test uses."""

    name: str
    database_url: str
    redis_url: str | None


@pytest.fixture(params=["postgres+redis", "sqlite+memory"])
def stack(request: pytest.FixtureRequest, redis_prefix: str) -> Stack:
    if request.param == "postgres+redis":
        return Stack("postgres+redis", request.getfixturevalue("pg_url"), REDIS_URL)
    return Stack("sqlite+memory", request.getfixturevalue("sqlite_url"), None)


@pytest.fixture
def pg_stack(pg_url: str) -> Stack:
    return Stack("postgres+redis", pg_url, REDIS_URL)


AppFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_client(stack: Stack, redis_prefix: str, tmp_path: Path) -> Iterator[AppFactory]:
    """`async with make_client(llm=fake_llm, **settings) as client:` — the real app and lifespan."""

    @asynccontextmanager
    async def factory(
        llm: FakeLLM | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        values: dict[str, Any] = {
            "database_url": stack.database_url,
            "redis_url": stack.redis_url,
            "redis_key_prefix": redis_prefix,
            "api_key": API_KEY,
            "data_dir": tmp_path,
            "environment": "test",
            "openai_retry_delay_base": 0.01,
            "openai_retry_delay_max": 0.05,
            "openai_retry_jitter": 0.01,
            "openai_timeout": 5,
            # Tests that are not about rate limits make many requests with one key.
            "rate_limit": "100000/minute",
        }
        if llm is not None:
            values["openai_base_url"] = llm.base_url
            values["openai_api_key"] = "sk-test"
        values.update(overrides)
        app = create_app(Settings(_env_file=None, **values))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    yield factory
    asyncio.run(_truncate(stack.database_url))


async def _truncate(url: str) -> None:
    """Empty the tables between tests (the database itself lives for the whole run)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split(":///", 1)[1]) as db:
            for table in ("history", "chat_modes", "jobs", "job_callback_secrets", "api_keys"):
                db.execute(f"DELETE FROM {table}")
        return
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE history, chat_modes, api_keys RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def app_of(client: httpx.AsyncClient) -> FastAPI:
    app: FastAPI = client.app  # type: ignore[attr-defined]
    return app
