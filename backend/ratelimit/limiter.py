"""A fixed-window limiter on the `limits` library's storage: Redis (shared by every replica), or
memory without Redis.

If Redis becomes unreachable the limiter falls back to per-process memory counters until it is
back, so a Redis outage never turns into refused requests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the window resets

    def headers(self) -> dict[str, str]:
        """RateLimit-* (IETF draft) headers; Retry-After too when refused."""
        reset = str(max(0, math.ceil(self.reset_after)))
        values = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": reset,
        }
        if not self.allowed:
            values["Retry-After"] = str(max(1, math.ceil(self.reset_after)))
        return values


@lru_cache(maxsize=256)
def _parse(rate: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rate))


class RateLimiter:
    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self._memory: Storage = MemoryStorage()
        self._shared: Storage | None = None
        if redis is not None:
            # The app's own connection pool: the limiter adds no connections of its own.
            self._shared = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=prefix + "ratelimit",
                wrap_exceptions=True,
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            )

    @property
    def backend(self) -> str:
        return "redis" if self._shared else "memory"

    async def hit(self, identity: str, rate: str) -> RateDecision:
        """Count one request for `identity` against `rate` (`60/minute`, `10/second;500/hour`)."""
        if self._shared is not None:
            try:
                return await self._hit(self._shared, identity, rate)
            except (StorageError, RedisError, OSError):
                logger.warning("rate limit storage unreachable; counting in memory for now")
        return await self._hit(self._memory, identity, rate)

    @staticmethod
    async def _hit(storage: Storage, identity: str, rate: str) -> RateDecision:
        """Fixed window on the storage's own primitives: the increment and the window's expiry
        are read concurrently, so a check costs one round trip of latency."""
        tightest: RateDecision | None = None
        for item in _parse(rate):
            key = item.key_for(identity)
            count, expires_at = await asyncio.gather(
                storage.incr(key, item.get_expiry()), storage.get_expiry(key)
            )
            # The first hit of a window opens it: its expiry is the whole window from now.
            reset_after = (
                float(item.get_expiry()) if count == 1 else max(0.0, expires_at - time.time())
            )
            decision = RateDecision(
                allowed=count <= item.amount,
                limit=item.amount,
                remaining=max(0, item.amount - count),
                reset_after=reset_after,
            )
            if tightest is None or (not decision.allowed, -decision.remaining) > (
                not tightest.allowed,
                -tightest.remaining,
            ):
                tightest = decision
        assert tightest is not None  # parse_many never returns an empty list
        return tightest
