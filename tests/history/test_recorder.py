"""The write path: group commit, bad rows isolated, the spool when the database is unreachable, and
replays that store each record exactly once."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.core.config import Settings
from backend.db.engine import create_engine
from backend.history.models import HistoryRecord
from backend.history.recorder import HistoryRecorder, HistoryUnavailable
from backend.history.rows import dump_row, row_values
from tests.conftest import REDIS_URL


@pytest.fixture(params=["postgres", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url"))


@pytest.fixture
def key_id() -> int:
    """Rows of this test only: a key id nobody else uses."""
    return random.randint(10**9, 2 * 10**9)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dead_url() -> str:
    """Nothing listens there: connections are refused, as with a stopped server."""
    return f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/gone"


def _settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": data_dir,
        "history_maintenance_interval": 0,
        "history_replay_interval": 3600,  # tests replay by hand
        "history_write_timeout": 5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def _recorder(
    settings: Settings, redis: Redis | None = None, start: bool = True
) -> AsyncIterator[tuple[HistoryRecorder, AsyncEngine]]:
    engine = create_engine(settings)
    recorder = HistoryRecorder.from_settings(settings, engine, redis)
    recorder.maintenance = None
    if start:
        await recorder.start()
    try:
        yield recorder, engine
    finally:
        await recorder.close()
        await engine.dispose()


def _record(key_id: int, i: int, **overrides: Any) -> HistoryRecord:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "created_at": datetime.now(UTC),
        "api_key_id": key_id,
        "chat_id": 1,
        "task": "summarize",
        "input_text": f"text {i}",
        "output_text": f"out {i}",
        "result": {"summary": f"out {i}"},
        "language": "en",
        "model": "test",
    }
    values.update(overrides)
    return HistoryRecord(**values)


async def _stored(engine: AsyncEngine, key_id: int) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(HistoryRecord.input_text).where(HistoryRecord.api_key_id == key_id)
        )
        return sorted(r[0] for r in rows)


@pytest.fixture
def redis_client(redis_prefix: str) -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client


async def test_concurrent_records_share_a_few_inserts(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    async with _recorder(_settings(db_url, tmp_path)) as (recorder, engine):
        inserts: list[int] = []

        def count(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO HISTORY"):
                inserts.append(len(params) if many else 1)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        await asyncio.gather(*(recorder.record(_record(key_id, i)) for i in range(200)))
        event.remove(engine.sync_engine, "before_cursor_execute", count)

        assert len(await _stored(engine, key_id)) == 200
        # One statement per record would be 200; group commit needs a handful.
        assert 1 <= len(inserts) <= 10, inserts


async def test_batches_respect_the_row_cap_and_the_wait(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    settings = _settings(db_url, tmp_path, history_batch_max_rows=7, history_batch_max_wait_ms=5)
    async with _recorder(settings) as (recorder, engine):
        sizes: list[int] = []

        def count(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO HISTORY"):
                sizes.append(len(params) if many else 1)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        await asyncio.gather(*(recorder.record(_record(key_id, i)) for i in range(50)))
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(await _stored(engine, key_id)) == 50
        assert max(sizes) == 7 and sum(sizes) == 50, sizes


async def test_a_bad_record_fails_alone(db_url: str, tmp_path: Path, key_id: int) -> None:
    async with _recorder(_settings(db_url, tmp_path)) as (recorder, engine):
        records = [_record(key_id, i) for i in range(5)]
        records.insert(2, _record(key_id, 99, input_text=None))  # NOT NULL violation
        outcomes = await asyncio.gather(
            *(recorder.record(r) for r in records), return_exceptions=True
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(failed) == 1 and outcomes[2] is failed[0]
        assert await _stored(engine, key_id) == [f"text {i}" for i in range(5)]
        assert recorder.spooled == 0, "a bad row is not an outage: it must not be spooled"


async def test_close_writes_what_is_queued_and_cancelled_callers_keep_their_record(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    settings = _settings(db_url, tmp_path)
    async with _recorder(settings) as (recorder, engine):
        tasks = [asyncio.create_task(recorder.record(_record(key_id, i))) for i in range(20)]
        await asyncio.sleep(0)  # queued, not yet written
        tasks[0].cancel()  # the client went away
        await recorder.close()
        assert len(await _stored(engine, key_id)) == 20


async def test_unreachable_database_spools_to_file_and_replays_exactly_once(
    pg_url: str, tmp_path: Path, key_id: int
) -> None:
    async with _recorder(_settings(_dead_url(), tmp_path)) as (down, _):
        for i in range(3):  # sequential: the first failure marks the database down
            await down.record(_record(key_id, i))
        await asyncio.gather(*(down.record(_record(key_id, i)) for i in range(3, 10)))
        assert down.spooled == 10 and down.database_down
        assert await down.spool_depth() == {"file": 10}
        assert REGISTRY.get_sample_value("assistant_history_spool_depth") == 10
    spool_file = tmp_path / "history-spool" / "current.jsonl"
    saved = tmp_path / "saved.jsonl"
    shutil.copy(spool_file, saved)

    async with _recorder(_settings(pg_url, tmp_path), start=False) as (up, engine):
        assert await up.replay() == 10
        assert len(await _stored(engine, key_id)) == 10
        assert await up.spool_depth() == {"file": 0}
        # A crash after the INSERT but before the spool file was removed replays it again:
        # still one row per record.
        shutil.copy(saved, spool_file)
        assert await up.replay() == 10
        assert len(await _stored(engine, key_id)) == 10


async def test_redis_spool_replays_exactly_once(
    pg_url: str, tmp_path: Path, key_id: int, redis_client: Redis, redis_prefix: str
) -> None:
    settings = _settings(_dead_url(), tmp_path, redis_key_prefix=redis_prefix)
    async with _recorder(settings, redis_client) as (down, _):
        await asyncio.gather(*(down.record(_record(key_id, i)) for i in range(6)))
        depth = await down.spool_depth()
        assert depth == {"file": 0, "redis": 6}
        # Simulate a replayer that wrote the rows but died before deleting the entries.
        stream = f"{redis_prefix}history:spool"
        for _, fields in await redis_client.xrange(stream):
            await redis_client.xadd(stream, fields)
    settings = _settings(pg_url, tmp_path, redis_key_prefix=redis_prefix)
    async with _recorder(settings, redis_client, start=False) as (up, engine):
        assert await up.replay() == 12
        assert len(await _stored(engine, key_id)) == 6
        assert await up.spool_depth() == {"file": 0, "redis": 0}
    await redis_client.aclose()


async def test_dead_redis_falls_back_to_the_file(tmp_path: Path, key_id: int) -> None:
    dead_redis = Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=1)
    async with _recorder(_settings(_dead_url(), tmp_path), dead_redis) as (down, _):
        await down.record(_record(key_id, 1))
        assert (await down.spool_depth()) == {"file": 1, "redis": None}
        status = await down.spool_status(3)
        assert status["depth"] is None and status["file"] == 1
    await dead_redis.aclose()


async def test_a_torn_spool_line_is_skipped(pg_url: str, tmp_path: Path, key_id: int) -> None:
    spool = tmp_path / "history-spool"
    spool.mkdir()
    good = [dump_row(row_values(_record(key_id, i))) for i in range(3)]
    # A crash mid-append leaves half a line; the next record still starts on its own line.
    (spool / "current.jsonl").write_text(
        "\n" + good[0] + "\n" + good[1][:40] + "\n" + good[2], encoding="utf-8"
    )
    async with _recorder(_settings(pg_url, tmp_path), start=False) as (up, engine):
        assert await up.replay() == 2
        assert await _stored(engine, key_id) == ["text 0", "text 2"]


async def test_no_spool_at_all_fails_the_request_honestly(tmp_path: Path, key_id: int) -> None:
    (tmp_path / "history-spool").write_text("a file where the spool folder should be")
    async with _recorder(_settings(_dead_url(), tmp_path)) as (down, _):
        with pytest.raises(HistoryUnavailable):
            await down.record(_record(key_id, 1))


async def test_record_without_a_running_writer_writes_inline(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    async with _recorder(_settings(db_url, tmp_path), start=False) as (recorder, engine):
        await recorder.record(_record(key_id, 1))
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(HistoryRecord)
                .where(HistoryRecord.api_key_id == key_id)
            )
        assert count == 1
