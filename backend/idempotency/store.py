"""Stores responses by (API key, Idempotency-Key) for IDEMPOTENCY_TTL (24 h by default).

First request with a key: reserve it (`SET NX`), run, store the response (successes only, so a
failed attempt can be retried — that is what "Retry On Fail" needs). Same key and same request
again: the stored response, with no new LLM call and no new history row. Same key, different
request: 409 `idempotency_conflict`. While the first is still running, the repeat waits for it.
Redis shares this across replicas; without Redis (or while it is down) it is per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.core.errors import BadRequest, Conflict

MAX_KEY_LENGTH = 255
MEMORY_MAX_ENTRIES = 10_000
POLL_START_S, POLL_MAX_S = 0.01, 0.2


@dataclass(frozen=True, slots=True)
class Replay:
    body: dict[str, Any]
    status: int
    replayed: bool


class _Memory:
    """Per-process fallback with expiry, bounded in size."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        entry = self._items.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return entry[1]

    def set(self, key: str, value: str, ttl: float, *, nx: bool = False) -> bool:
        if nx and self.get(key) is not None:
            return False
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > MEMORY_MAX_ENTRIES:
            self._items.popitem(last=False)
        return True

    def delete(self, key: str) -> None:
        self._items.pop(key, None)


def check_key(value: str) -> str:
    if not value or len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise BadRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            code="invalid_idempotency_key",
        )
    return value


def fingerprint(scope: str, body: Any) -> str:
    """The request's identity: route plus canonical JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{scope}\x00{canonical}".encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, redis: Redis | None, prefix: str, *, ttl: int, wait: float) -> None:
        self._redis = redis
        self._prefix = prefix + "idem:"
        self._ttl = ttl
        self._wait = wait
        self._memory = _Memory()

    async def run(
        self,
        api_key_id: int,
        key: str,
        request_fingerprint: str,
        compute: Callable[[], Awaitable[tuple[dict[str, Any], int]]],
    ) -> Replay:
        slot = f"{self._prefix}{api_key_id}:{hashlib.sha256(check_key(key).encode()).hexdigest()}"
        pending = json.dumps({"fp": request_fingerprint, "state": "pending"})
        deadline = time.monotonic() + self._wait
        delay = POLL_START_S
        while True:
            if await self._set(slot, pending, self._wait + 5, nx=True):
                return await self._first(slot, request_fingerprint, compute)
            stored = await self._get(slot)
            if stored is None:
                continue  # the first attempt failed and released the key: take over
            entry = json.loads(stored)
            if entry["fp"] != request_fingerprint:
                raise Conflict(
                    "This Idempotency-Key was already used with a different request. "
                    "Use a new key for a new request.",
                    code="idempotency_conflict",
                )
            if entry["state"] == "done":
                return Replay(entry["body"], int(entry["status"]), replayed=True)
            if time.monotonic() >= deadline:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_in_progress",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_S)

    async def _first(
        self,
        slot: str,
        request_fingerprint: str,
        compute: Callable[[], Awaitable[tuple[dict[str, Any], int]]],
    ) -> Replay:
        try:
            body, status = await compute()
        except BaseException:
            await self._delete(slot)
            raise
        done = {"fp": request_fingerprint, "state": "done", "status": status, "body": body}
        await self._set(slot, json.dumps(done, default=str), self._ttl)
        return Replay(body, status, replayed=False)

    # --- storage: Redis, else (or while Redis is down) process memory --------------------------
    async def _set(self, key: str, value: str, ttl: float, *, nx: bool = False) -> bool:
        if self._redis is not None:
            try:
                return bool(await self._redis.set(key, value, px=int(ttl * 1000), nx=nx))
            except (RedisError, OSError):
                pass
        return self._memory.set(key, value, ttl, nx=nx)

    async def _get(self, key: str) -> str | None:
        if self._redis is not None:
            try:
                raw = await self._redis.get(key)
                return raw.decode() if isinstance(raw, bytes) else raw
            except (RedisError, OSError):
                pass
        return self._memory.get(key)

    async def _delete(self, key: str) -> None:
        if self._redis is not None:
            try:
                await self._redis.delete(key)
                return
            except (RedisError, OSError):
                pass
        self._memory.delete(key)


__all__ = ["IdempotencyStore", "Replay", "check_key", "fingerprint"]
