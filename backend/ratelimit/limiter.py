"""A fixed-window limiter on Redis (shared by every replica), or in memory without Redis.

If Redis becomes unreachable the limiter falls back to per-process memory counters until it is
back, so a Redis outage never turns into refused requests.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
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
    def __init__(self, redis_url: str | None, prefix: str) -> None:
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._shared: FixedWindowRateLimiter | None = None
        self._storage: Storage | None = None
        if redis_url:
            self._storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=prefix + "ratelimit",
                wrap_exceptions=True,
                socket_timeout=2,
                socket_connect_timeout=2,
            )
            self._shared = FixedWindowRateLimiter(self._storage)

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
    async def _hit(limiter: FixedWindowRateLimiter, identity: str, rate: str) -> RateDecision:
        tightest: RateDecision | None = None
        for item in _parse(rate):
            allowed = await limiter.hit(item, identity)
            stats = await limiter.get_window_stats(item, identity)
            decision = RateDecision(
                allowed=allowed,
                limit=item.amount,
                remaining=stats.remaining,
                reset_after=max(0.0, stats.reset_time - time.time()),
            )
            if tightest is None or (not decision.allowed, -decision.remaining) > (
                not tightest.allowed,
                -tightest.remaining,
            ):
                tightest = decision
        assert tightest is not None  # parse_many never returns an empty list
        return tightest
