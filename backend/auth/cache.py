"""A Redis cache of verified keys, so a request costs one Redis GET instead of a database query.

Revocation writes a tombstone over the entry (and entries are only ever added with SET NX), so a
revoked key stops working at once on every replica sharing the Redis. Without Redis every request
reads the database.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

CACHE_TTL_S = 300
REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class CachedKey:
    id: int
    name: str
    rate_limit: str | None
    monthly_budget_usd: float | None
    expires_at: float | None  # epoch seconds


class KeyCache:
    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "auth:"

    async def get(self, digest: str) -> CachedKey | str | None:
        """The cached key, REVOKED, or None (unknown: ask the database)."""
        if self._redis is None:
            return None
        try:
            raw = await self._redis.get(self._prefix + digest)
        except (RedisError, OSError):
            return None
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        if text == REVOKED:
            return REVOKED
        try:
            return CachedKey(**json.loads(text))
        except (ValueError, TypeError):
            return None

    async def put(self, digest: str, key: CachedKey) -> None:
        if self._redis is None:
            return
        try:
            # NX: never overwrite a tombstone written by a concurrent revocation.
            await self._redis.set(
                self._prefix + digest, json.dumps(asdict(key)), ex=CACHE_TTL_S, nx=True
            )
        except (RedisError, OSError):
            return

    async def first_use_in(self, key_id: int, seconds: int) -> bool:
        """True at most once per `seconds` per key: when last_used_at is worth writing."""
        if self._redis is None:
            return True
        try:
            return bool(
                await self._redis.set(f"{self._prefix}used:{key_id}", "1", ex=seconds, nx=True)
            )
        except (RedisError, OSError):
            return True

    async def revoke(self, digest: str) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.set(self._prefix + digest, REVOKED, ex=CACHE_TTL_S)
        except (RedisError, OSError):
            return

    async def forget(self, digest: str) -> None:
        """Drop an entry after its settings changed (limits, budget), so replicas re-read it."""
        if self._redis is None:
            return
        try:
            await self._redis.delete(self._prefix + digest)
        except (RedisError, OSError):
            return
