"""A circuit breaker per upstream endpoint, shared by every replica through Redis.

closed ──N consecutive failures──▶ open ──cooldown──▶ half-open ──probe ok──▶ closed
                                    ▲                      │
                                    └──────probe fails─────┘

While open, calls skip the endpoint without touching the network. After the cooldown exactly one
caller (across all replicas: `SET NX`) is let through as the probe; the others keep skipping until
it decides. When Redis is not configured, or is unreachable, each process keeps its own state, so
an outage of Redis never blocks LLM calls.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.observability.metrics import BREAKER_OPEN, BREAKER_TRANSITIONS

logger = logging.getLogger(__name__)

# A probe that never reports back (its process died) frees the half-open slot after this long.
PROBE_TIMEOUT_FACTOR = 2.0


@dataclass
class _LocalState:
    failures: int = 0
    open_until: float = 0.0
    tripped: bool = False
    probe_until: float = 0.0


class CircuitBreaker:
    def __init__(
        self,
        endpoint: str,
        *,
        failures: int,
        cooldown: float,
        probe_timeout: float,
        redis: Redis | None = None,
        prefix: str = "wa:",
    ) -> None:
        self.endpoint = endpoint
        self._threshold = failures
        self._cooldown = cooldown
        self._probe_timeout = max(probe_timeout, cooldown) * PROBE_TIMEOUT_FACTOR
        self._redis = redis
        self._key = f"{prefix}breaker:{endpoint}:"
        self._local = _LocalState()
        # Whether the last shared check saw failures: when it did not, a success has nothing to
        # reset, which saves a Redis round trip on the hot path.
        self._shared_dirty = True

    # --- decisions ----------------------------------------------------------------------------
    async def allow(self) -> bool:
        """May a call go to this endpoint now? Takes the half-open probe slot when it is free."""
        if self._redis is not None:
            try:
                return await self._allow_shared(self._redis)
            except (RedisError, OSError):
                pass
        return self._allow_local()

    async def retry_after(self) -> float:
        """Seconds until the breaker lets a probe through (0 when closed)."""
        if self._redis is not None:
            try:
                ttl = await self._redis.pttl(self._key + "open")
                return max(0.0, ttl / 1000) if ttl and ttl > 0 else 0.0
            except (RedisError, OSError):
                pass
        return max(0.0, self._local.open_until - time.monotonic())

    async def record_success(self) -> None:
        was_tripped = self._local.tripped
        self._local = _LocalState()
        if self._redis is not None and self._shared_dirty:
            try:
                pipe = self._redis.pipeline(transaction=False)
                pipe.exists(self._key + "tripped")
                pipe.delete(
                    self._key + "failures",
                    self._key + "tripped",
                    self._key + "probe",
                    self._key + "open",
                )
                tripped, _ = await pipe.execute()
                was_tripped = was_tripped or bool(tripped)
                self._shared_dirty = False
            except (RedisError, OSError):
                pass
        if was_tripped:
            self._transition("closed")

    async def record_failure(self) -> None:
        if self._redis is not None:
            try:
                await self._failure_shared(self._redis)
                return
            except (RedisError, OSError):
                pass
        self._failure_local()

    # --- shared state (Redis) -----------------------------------------------------------------
    async def _allow_shared(self, redis: Redis) -> bool:
        pipe = redis.pipeline(transaction=False)
        pipe.exists(self._key + "open")
        pipe.exists(self._key + "tripped")
        pipe.exists(self._key + "failures")
        is_open, tripped, failures = await pipe.execute()
        self._shared_dirty = bool(is_open or tripped or failures)
        if is_open:
            BREAKER_OPEN.labels(self.endpoint).set(1)
            return False
        if not tripped:
            return True
        # Half-open: exactly one caller, on any replica, gets to probe.
        won = await redis.set(self._key + "probe", "1", nx=True, px=int(self._probe_timeout * 1000))
        return bool(won)

    async def _failure_shared(self, redis: Redis) -> None:
        self._shared_dirty = True
        pipe = redis.pipeline(transaction=False)
        pipe.incr(self._key + "failures")
        pipe.exists(self._key + "tripped")
        failures, tripped = await pipe.execute()
        if tripped or int(failures) >= self._threshold:
            pipe = redis.pipeline(transaction=True)
            pipe.set(self._key + "open", "1", px=int(self._cooldown * 1000))
            pipe.set(self._key + "tripped", "1")
            pipe.delete(self._key + "probe")
            await pipe.execute()
            self._transition("open")

    # --- per-process state --------------------------------------------------------------------
    def _allow_local(self) -> bool:
        state, now = self._local, time.monotonic()
        if now < state.open_until:
            return False
        if not state.tripped:
            return True
        if now < state.probe_until:
            return False
        state.probe_until = now + self._probe_timeout
        return True

    def _failure_local(self) -> None:
        state = self._local
        state.failures += 1
        if state.tripped or state.failures >= self._threshold:
            state.tripped = True
            state.open_until = time.monotonic() + self._cooldown
            state.probe_until = 0.0
            self._transition("open")

    def _transition(self, state: str) -> None:
        BREAKER_OPEN.labels(self.endpoint).set(1 if state == "open" else 0)
        BREAKER_TRANSITIONS.labels(self.endpoint, state).inc()
        log = logger.warning if state == "open" else logger.info
        log(
            "circuit breaker %s",
            state,
            extra={"endpoint": self.endpoint, "cooldown_s": self._cooldown},
        )
