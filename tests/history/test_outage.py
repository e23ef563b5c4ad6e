"""Nothing is lost when PostgreSQL goes away: a burst of task requests while our own throwaway
cluster is stopped (or killed) all succeed, their records wait in the spool, and once the server
is back the replayer writes exactly one row per request."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from backend.core.config import Settings
from backend.db import migrate
from backend.main import create_app
from tests.conftest import API_KEY, AUTH, REDIS_URL
from tests.history.pgcluster import PgCluster

REQUESTS = 48
STOP_AFTER = 12
CONCURRENCY = 6
REPLAY_DEADLINE_S = 60
BURST_DEADLINE_S = 120
TEST_DEADLINE_S = 300


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    server = PgCluster().init()
    server.start()
    yield server
    server.destroy()


async def _new_database(cluster: PgCluster) -> str:
    name = f"wa_outage_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = cluster.url(name)
    await asyncio.to_thread(migrate.upgrade, url)
    return name


@asynccontextmanager
async def _client(
    url: str, tmp_path: Path, redis_prefix: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {
        "database_url": url,
        "redis_url": REDIS_URL,
        "redis_key_prefix": redis_prefix,
        "api_key": API_KEY,
        "data_dir": tmp_path,
        "environment": "test",
        "rate_limit": None,
        "history_replay_interval": 0.2,
        "history_write_timeout": 3,
        "history_maintenance_interval": 0,
        "postgres_pool_timeout": 3,
    }
    values.update(overrides)
    app = create_app(Settings(_env_file=None, **values))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", timeout=30
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def _burst(
    client: httpx.AsyncClient, outage: Callable[[], None]
) -> tuple[list[str], list[httpx.Response]]:
    """REQUESTS task requests, CONCURRENCY at a time; `outage` runs after STOP_AFTER answers."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)
    answered: list[httpx.Response] = []
    outage_done = asyncio.Event()
    stopped = False

    async def worker() -> None:
        nonlocal stopped
        while not queue.empty():
            i = queue.get_nowait()
            if i >= STOP_AFTER:
                await outage_done.wait()
            response = await client.post(
                "/v1/tasks/summarize",
                json={"text": f"Petición {i} de la ráfaga. Segunda frase {i}.", "chat_id": 7},
                headers=AUTH,
            )
            answered.append(response)
            if len(answered) >= STOP_AFTER and not stopped:
                stopped = True
                try:
                    await asyncio.to_thread(outage)
                finally:
                    outage_done.set()

    try:
        async with asyncio.timeout(BURST_DEADLINE_S):
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    except TimeoutError:
        pytest.fail(f"the burst did not finish within {BURST_DEADLINE_S}s ({len(answered)} done)")
    failures = [(r.status_code, r.text[:300]) for r in answered if r.status_code != 200]
    assert not failures, f"requests failed during the outage: {failures}"
    return [r.json()["id"] for r in answered], answered


async def _wait_for_empty_spool(client: httpx.AsyncClient) -> dict[str, Any]:
    deadline = time.monotonic() + REPLAY_DEADLINE_S
    while True:
        ready = await client.get("/ready")
        body = ready.json()
        checks = body.get("checks") or body.get("error", {}).get("details", {}).get("checks", {})
        spool = checks.get("history_spool", {})
        if ready.status_code == 200 and spool.get("depth") == 0:
            return dict(spool)
        if time.monotonic() > deadline:
            pytest.fail(f"the spool was not replayed within {REPLAY_DEADLINE_S}s: {body}")
        await asyncio.sleep(0.2)


async def _stored_ids(cluster: PgCluster, database: str) -> list[str]:
    conn = await asyncpg.connect(cluster.dsn(database))
    try:
        return [str(r["id"]) for r in await conn.fetch("SELECT id FROM history")]
    finally:
        await conn.close()


async def _outage_roundtrip(
    cluster: PgCluster,
    tmp_path: Path,
    redis_prefix: str,
    outage: Callable[[], None],
    expect_spool: str,
    **overrides: Any,
) -> None:
    await asyncio.to_thread(cluster.ensure_running)
    database = await _new_database(cluster)
    try:
        async with asyncio.timeout(TEST_DEADLINE_S):
            await _roundtrip(
                cluster, database, tmp_path, redis_prefix, outage, expect_spool, **overrides
            )
    except TimeoutError:
        pytest.fail(f"the outage round trip did not finish within {TEST_DEADLINE_S}s")


async def _roundtrip(
    cluster: PgCluster,
    database: str,
    tmp_path: Path,
    redis_prefix: str,
    outage: Callable[[], None],
    expect_spool: str,
    **overrides: Any,
) -> None:
    async with _client(cluster.url(database), tmp_path, redis_prefix, **overrides) as client:
        # One request before the outage: the key is verified (and cached in Redis) as usual.
        warm = await client.post(
            "/v1/tasks/summarize",
            json={"text": "Antes del corte. Fin.", "chat_id": 7},
            headers=AUTH,
        )
        assert warm.status_code == 200, warm.text
        ids, _ = await _burst(client, outage)
        ids.append(warm.json()["id"])

        # The server is still down: /ready says so and shows the records waiting.
        down = await client.get("/ready")
        assert down.status_code == 503
        spool = down.json()["error"]["details"]["checks"]["history_spool"]
        assert spool[expect_spool] and spool[expect_spool] > 0, spool
        recorder = client.app.state.resources.recorder  # type: ignore[attr-defined]
        assert recorder.spooled > 0

        await asyncio.to_thread(cluster.start)
        await _wait_for_empty_spool(client)

        stored = await _stored_ids(cluster, database)
        assert len(stored) == len(ids) == REQUESTS + 1
        assert sorted(stored) == sorted(ids), "exactly one row per request"
        # Answered while the server was down and still readable through the API afterwards.
        listed = await client.get("/v1/history?chat_id=7&limit=100", headers=AUTH)
        assert len(listed.json()["items"]) == REQUESTS + 1


async def test_fast_shutdown_spools_to_redis_and_replays_exactly_once(
    cluster: PgCluster, tmp_path: Path, redis_prefix: str
) -> None:
    await _outage_roundtrip(
        cluster, tmp_path, redis_prefix, lambda: cluster.stop("fast"), expect_spool="redis"
    )


async def test_fast_shutdown_spools_to_the_file_and_replays_exactly_once(
    cluster: PgCluster, tmp_path: Path, redis_prefix: str
) -> None:
    await _outage_roundtrip(
        cluster,
        tmp_path,
        redis_prefix,
        lambda: cluster.stop("fast"),
        expect_spool="file",
        history_spool="file",
    )
    assert not list((tmp_path / "history-spool").glob("*.jsonl")), "replayed files are removed"


@pytest.mark.chaos
async def test_immediate_shutdown_loses_nothing(
    cluster: PgCluster, tmp_path: Path, redis_prefix: str
) -> None:
    await _outage_roundtrip(
        cluster, tmp_path, redis_prefix, lambda: cluster.stop("immediate"), expect_spool="redis"
    )


@pytest.mark.chaos
async def test_killed_postmaster_loses_nothing(
    cluster: PgCluster, tmp_path: Path, redis_prefix: str
) -> None:
    await _outage_roundtrip(
        cluster,
        tmp_path,
        redis_prefix,
        cluster.kill,
        expect_spool="file",
        history_spool="file",
    )
