"""Where history records wait while the database is down, until the replayer writes them.

Two durable spools: a Redis stream (shared by all replicas) and an append-only JSONL file under
DATA_DIR (fsync'ed before `push` returns). `HistorySpool` tries Redis first when it is configured
and falls back to the file. Replay is at-least-once; the INSERT's ON CONFLICT DO NOTHING on the
primary key turns it into exactly-once rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.history.rows import Row, dump_row, load_row

try:  # POSIX: lets an appender and the replayer of another process take turns on a file.
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; one process per DATA_DIR there
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

Handler = Callable[[list[Row]], Awaitable[None]]

SPOOL_DIR = "history-spool"
CURRENT_FILE = "current.jsonl"
STREAM_FIELD = b"r"


class SpoolUnavailable(Exception):
    """No spool could take the records (Redis down and the file not writable)."""


class RedisSpool:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self.key = f"{prefix}history:spool"

    async def push(self, rows: Sequence[Row]) -> None:
        # MULTI/EXEC: all of a batch or none of it, so a half-pushed batch never exists.
        async with self._redis.pipeline(transaction=True) as pipe:
            for row in rows:
                pipe.xadd(self.key, {STREAM_FIELD: dump_row(row).encode()})
            await pipe.execute()

    async def depth(self) -> int:
        return int(await self._redis.xlen(self.key))

    async def drain(self, handler: Handler, batch: int) -> int:
        """Hand the oldest entries to `handler` batch by batch; delete them once it returned."""
        done = 0
        while True:
            entries = await self._redis.xrange(self.key, "-", "+", count=batch)
            if not entries:
                return done
            rows: list[Row] = []
            for _, fields in entries:
                try:
                    rows.append(load_row(fields[STREAM_FIELD]))
                except (ValueError, KeyError, TypeError):
                    logger.error("dropping an unreadable history spool entry")
            await handler(rows)
            await self._redis.xdel(self.key, *[entry_id for entry_id, _ in entries])
            done += len(rows)


class FileSpool:
    """`DATA_DIR/history-spool/current.jsonl`, appended to; the replayer renames it before reading.

    Every record is written as "\\n" + JSON, so a line torn by a crash never glues itself to the
    next record: the torn line fails to parse and is skipped, the next one is intact.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = asyncio.Lock()

    @property
    def current(self) -> Path:
        return self.directory / CURRENT_FILE

    async def push(self, rows: Sequence[Row]) -> None:
        data = "".join("\n" + dump_row(row) for row in rows).encode()
        async with self._lock:
            await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.current, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                # A replayer (maybe in another process) may have renamed the file between our
                # open and our lock: then write to the new current file, not the claimed one.
                if not _same_file(fd, self.current):
                    continue
                created = os.fstat(fd).st_size == 0
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
                if created:
                    _fsync_directory(self.directory)
                return
            finally:
                os.close(fd)

    async def depth(self) -> int:
        return await asyncio.to_thread(self._count)

    def _count(self) -> int:
        if not self.directory.is_dir():
            return 0
        total = 0
        for path in self.directory.glob("*.jsonl"):
            try:
                with path.open("rb") as handle:
                    previous = b""
                    while chunk := handle.read(1 << 20):
                        # A record starts with "\n{"; the pair may straddle two chunks.
                        total += (previous + chunk).count(b"\n{")
                        previous = chunk[-1:]
            except FileNotFoundError:
                continue  # replayed and deleted meanwhile
        return total

    def _claim(self) -> list[Path]:
        """Rename the current file out of the appenders' way; return every file to replay."""
        if self.current.exists():
            claimed = self.directory / f"replay-{uuid.uuid4().hex}.jsonl"
            try:
                os.replace(self.current, claimed)
            except FileNotFoundError:
                pass  # another replayer claimed it first
            else:
                # An appender that opened the file before the rename may still be writing:
                # its lock is released only when its record is on disk.
                if fcntl is not None:
                    fd = os.open(claimed, os.O_RDONLY)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX)
                    finally:
                        os.close(fd)
        return sorted(self.directory.glob("replay-*.jsonl"), key=lambda p: p.stat().st_mtime)

    async def drain(self, handler: Handler, batch: int) -> int:
        if not self.directory.is_dir():
            return 0
        async with self._lock:
            files = await asyncio.to_thread(self._claim)
        done = 0
        for path in files:
            try:
                handle = await asyncio.to_thread(path.open, "rb")
            except FileNotFoundError:
                continue  # another replayer finished it
            try:
                # Streamed in batches: a long outage's spool need not fit in memory.
                while rows := await asyncio.to_thread(_read_rows, handle, batch):
                    await handler(rows)
                    done += len(rows)
            finally:
                handle.close()
            # Deleted only after every batch is in the database; a failure half-way replays the
            # whole file again later, which the primary key makes harmless.
            path.unlink(missing_ok=True)
        return done


def _read_rows(handle: BinaryIO, limit: int) -> list[Row]:
    """Up to `limit` readable rows from the current position (skipping torn lines)."""
    rows: list[Row] = []
    while len(rows) < limit:
        line = handle.readline()
        if not line:
            break
        if not line.strip():
            continue
        try:
            rows.append(load_row(line))
        except (ValueError, KeyError, TypeError):
            logger.error("dropping a torn or unreadable history spool line")
    return rows


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _fsync_directory(directory: Path) -> None:
    # A new file's name is durable only once its directory is synced (POSIX).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not possible on this platform
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class HistorySpool:
    """Redis first (when given), the file otherwise or when Redis fails."""

    def __init__(self, file: FileSpool, redis: RedisSpool | None) -> None:
        self.file = file
        self.redis = redis

    async def push(self, rows: Sequence[Row]) -> str:
        """Store the rows durably; return which spool took them."""
        if self.redis is not None:
            try:
                await self.redis.push(rows)
                return "redis"
            except (RedisError, OSError):
                logger.warning("redis spool unavailable; spooling history to the file")
        try:
            await self.file.push(rows)
        except OSError as exc:
            raise SpoolUnavailable("no spool could store the history records") from exc
        return "file"

    async def depth(self) -> dict[str, int | None]:
        """Records waiting, per spool (None: that spool could not be read right now)."""
        depths: dict[str, int | None] = {"file": await self.file.depth()}
        if self.redis is not None:
            try:
                depths["redis"] = await self.redis.depth()
            except (RedisError, OSError):
                depths["redis"] = None
        return depths

    async def drain(self, handler: Handler, batch: int) -> int:
        done = 0
        if self.redis is not None:
            try:
                done += await self.redis.drain(handler, batch)
            except (RedisError, OSError):
                logger.warning("redis spool unavailable; replaying the file spool only")
        return done + await self.file.drain(handler, batch)
