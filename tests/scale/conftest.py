"""Two API processes and two workers on one PostgreSQL database and one Redis namespace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import API_KEY, AUTH, REDIS_URL, _truncate
from tests.scale.cluster import Cluster, process_env
from tests.support.fake_llm import FakeLLM

ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def cluster(
    pg_url: str, redis_prefix: str, fake_llm: FakeLLM, tmp_path: Path
) -> Iterator[ClusterFactory]:
    """`cluster(RATE_LIMIT="5/minute")`: a Cluster whose processes get these settings."""
    asyncio.run(_truncate(pg_url))
    made: list[Cluster] = []

    def factory(**overrides: Any) -> Cluster:
        settings = {
            "ENVIRONMENT": "test",
            "DATABASE_URL": pg_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": redis_prefix,
            "API_KEY": API_KEY,
            "DATA_DIR": str(tmp_path / "data"),
            "OPENAI_BASE_URL": fake_llm.base_url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_TIMEOUT": "20",
            "OPENAI_RETRY_DELAY_BASE": "0.01",
            "OPENAI_RETRY_DELAY_MAX": "0.05",
            "OPENAI_RETRY_JITTER": "0.01",
            "RATE_LIMIT": "off",
            "LOG_LEVEL": "INFO",
            "JOBS_POLL_DELAY": "0.05",
            "JOBS_CONCURRENCY": "4",
            "JOBS_SHUTDOWN_GRACE": "30",
            "JOBS_CALLBACK_BACKOFF": "0.01",
            "JOBS_CALLBACK_BACKOFF_MAX": "0.05",
        }
        settings.update({k.upper(): str(v) for k, v in overrides.items()})
        made.append(Cluster(tmp_path, process_env(settings)))
        return made[-1]

    yield factory
    for one in made:
        one.stop()
    asyncio.run(_truncate(pg_url))


async def rows(pg_url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def wait_for(check: Callable[[], Any], within_s: float = 240, what: str = "") -> Any:
    """Poll an async condition until it holds (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + within_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def submit_job(client: httpx.AsyncClient, base_url: str, text: str) -> str:
    body = {"task": "summarize", "text": text}
    response = await client.post(f"{base_url}/v1/jobs", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])
