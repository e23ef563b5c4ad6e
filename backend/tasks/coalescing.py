"""Identical in-flight requests share one computation, in one process and across processes.

In a process, the first request for a cache key becomes the local leader and the others await its
future. Across processes, local leaders race for a Redis lock (`SET NX PX`): the winner computes
and publishes the outcome (answer or error) under a short-lived key; the others poll for it. If the
winner dies, its lock expires (or is gone without an outcome) and a waiter takes over. Nobody
waits longer than COALESCE_TIMEOUT. Without Redis, or while it is unreachable, coalescing is
per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.core.errors import AppError, ServiceUnavailable, UpstreamTimeout

logger = logging.getLogger(__name__)

# How long a published outcome stays readable for waiters in other processes.
OUTCOME_TTL_MS = 15_000
POLL_START_S, POLL_MAX_S = 0.005, 0.1


class _TakeOver(Exception):
    """The remote leader vanished without an outcome: compete for the lock again."""


class Coalescer:
    def __init__(self, redis: Redis | None, prefix: str, timeout: float) -> None:
        self._redis = redis
        self._prefix = prefix + "inflight:"
        self._timeout = timeout
        self._local: dict[str, asyncio.Future[str]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[str]]) -> tuple[str, bool]:
        """The payload for `key`, computed here or by an identical request; True if coalesced."""
        pending = self._local.get(key)
        if pending is not None:
            try:
                payload = await asyncio.wait_for(asyncio.shield(pending), self._timeout)
            except TimeoutError:
                raise _timeout_error(self._timeout) from None
            return payload, True

        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        # Waiters read the exception; with none, retrieving it here avoids "never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._local[key] = future
        try:
            payload, coalesced = await self._across_processes(key, compute)
        except AppError as exc:
            future.set_exception(exc)
            raise
        except BaseException:
            future.set_exception(
                ServiceUnavailable("The identical request this one waited for was interrupted.")
            )
            raise
        else:
            future.set_result(payload)
            return payload, coalesced
        finally:
            self._local.pop(key, None)

    async def _across_processes(
        self, key: str, compute: Callable[[], Awaitable[str]]
    ) -> tuple[str, bool]:
        redis = self._redis
        if redis is None:
            return await compute(), False
        lock, outcome_key = self._prefix + key, self._prefix + key + ":outcome"
        deadline = time.monotonic() + self._timeout
        token = secrets.token_hex(8)
        while True:
            try:
                won = await redis.set(lock, token, nx=True, px=int(self._timeout * 1000))
            except (RedisError, OSError):
                return await compute(), False
            if won:
                return await self._lead(redis, lock, outcome_key, compute)
            try:
                return await self._wait(redis, lock, outcome_key, deadline), True
            except _TakeOver:
                continue

    async def _lead(
        self, redis: Redis, lock: str, outcome_key: str, compute: Callable[[], Awaitable[str]]
    ) -> tuple[str, bool]:
        try:
            payload = await compute()
        except AppError as exc:
            await self._publish(redis, lock, outcome_key, {"error": _error_to_dict(exc)})
            raise
        except BaseException:
            await self._release(redis, lock)
            raise
        await self._publish(redis, lock, outcome_key, {"payload": payload})
        return payload, False

    async def _wait(self, redis: Redis, lock: str, outcome_key: str, deadline: float) -> str:
        delay = POLL_START_S
        while True:
            try:
                pipe = redis.pipeline(transaction=False)
                pipe.get(outcome_key)
                pipe.exists(lock)
                raw, locked = await pipe.execute()
            except (RedisError, OSError):
                raise _TakeOver() from None
            if raw is not None:
                outcome = json.loads(raw)
                if "error" in outcome:
                    raise _error_from_dict(outcome["error"])
                return str(outcome["payload"])
            if not locked:
                raise _TakeOver()
            if time.monotonic() >= deadline:
                raise _timeout_error(self._timeout)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_S)

    async def _publish(
        self, redis: Redis, lock: str, outcome_key: str, outcome: dict[str, Any]
    ) -> None:
        try:
            pipe = redis.pipeline(transaction=True)
            pipe.set(outcome_key, json.dumps(outcome), px=OUTCOME_TTL_MS)
            pipe.delete(lock)
            await pipe.execute()
        except (RedisError, OSError):
            logger.warning("could not publish a coalesced outcome; waiters will take over")

    @staticmethod
    async def _release(redis: Redis, lock: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await redis.delete(lock)


def _timeout_error(timeout: float) -> AppError:
    return UpstreamTimeout(
        f"An identical request is still running after {timeout:g} s (COALESCE_TIMEOUT).",
        code="coalesce_timeout",
    )


def _error_to_dict(exc: AppError) -> dict[str, Any]:
    return {
        "status": exc.status_code,
        "code": exc.code,
        "message": exc.message,
        "details": exc.details,
        "headers": exc.headers,
    }


def _error_from_dict(data: dict[str, Any]) -> AppError:
    return AppError(
        str(data["message"]),
        status_code=int(data["status"]),
        code=str(data["code"]),
        details=dict(data.get("details") or {}),
        headers=dict(data.get("headers") or {}),
    )
