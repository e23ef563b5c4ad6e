"""Two interchangeable cache backends behind one small protocol.

Values are JSON strings; keys are namespaced with REDIS_KEY_PREFIX so several deployments (or test
runs) can share one Redis.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError


class Cache(Protocol):
    name: str

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: int) -> None: ...

    async def ping(self) -> bool: ...


class MemoryCache:
    """In-process LRU with per-entry expiry; the embedded default when no Redis is configured."""

    name = "memory"

    def __init__(self, max_items: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max_items = max_items

    async def get(self, key: str) -> str | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    async def set(self, key: str, value: str, ttl: int) -> None:
        if ttl <= 0:
            return
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max_items:
            self._items.popitem(last=False)

    async def ping(self) -> bool:
        return True


class RedisCache:
    """Redis-backed cache. A Redis outage degrades to cache misses, never to failed requests."""

    name = "redis"

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "cache:"

    async def get(self, key: str) -> str | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError):
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl: int) -> None:
        if ttl <= 0:
            return
        try:
            await self._redis.set(self._prefix + key, value, ex=ttl)
        except (RedisError, OSError):
            return

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False
