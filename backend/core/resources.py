"""Everything with a connection or a pool, built once in the app lifespan and closed with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.auth.authenticator import Authenticator
from backend.cache.backend import Cache, MemoryCache, RedisCache
from backend.core.config import Settings
from backend.db.engine import create_engine, create_sessionmaker
from backend.history.reader import SqlHistoryReader
from backend.history.recorder import HistoryRecorder
from backend.idempotency.store import IdempotencyStore
from backend.jobs.queue import JobQueue
from backend.llm.gateway import LLMGateway
from backend.ratelimit.limiter import RateLimiter
from backend.tasks.coalescing import Coalescer
from backend.tasks.registry import TaskRegistry
from backend.tasks.service import TaskRunner

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None
    cache: Cache
    llm: LLMGateway | None
    registry: TaskRegistry
    recorder: HistoryRecorder
    runner: TaskRunner
    authenticator: Authenticator
    limiter: RateLimiter
    idempotency: IdempotencyStore
    # Background jobs (arq on the same Redis); None without Redis.
    jobs: JobQueue | None = None

    @classmethod
    async def open(cls, settings: Settings, registry: TaskRegistry) -> Resources:
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        redis_url = settings.effective_redis_url
        redis = _redis_client(redis_url, settings) if redis_url else None
        cache: Cache = (
            RedisCache(redis, settings.redis_key_prefix)
            if redis is not None
            else MemoryCache(settings.memory_cache_max_items)
        )
        llm = LLMGateway(settings, redis) if settings.llm_enabled else None
        recorder = HistoryRecorder.from_settings(settings, engine, redis)
        await recorder.start()  # group-commit writer, spool replayer, partition maintenance
        prefix = settings.redis_key_prefix
        runner = TaskRunner(
            settings,
            cache,
            llm,
            recorder,
            coalescer=Coalescer(redis, prefix, settings.coalesce_timeout),
            sessionmaker=sessionmaker,
            history_reader=SqlHistoryReader(sessionmaker),
        )
        limiter = RateLimiter(redis, prefix)
        idempotency = IdempotencyStore(
            redis, prefix, ttl=settings.idempotency_ttl, wait=settings.coalesce_timeout
        )
        logger.info(
            "resources ready",
            extra={
                "database": engine.dialect.name,
                "cache": cache.name,
                "llm": llm.endpoint.name if llm else "offline",
            },
        )
        jobs = JobQueue(redis, settings.jobs_queue) if redis is not None else None
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            redis=redis,
            cache=cache,
            llm=llm,
            registry=registry,
            recorder=recorder,
            runner=runner,
            authenticator=Authenticator(sessionmaker, redis, prefix),
            limiter=limiter,
            idempotency=idempotency,
            jobs=jobs,
        )

    async def close(self) -> None:
        await self.recorder.close()  # first: it may still write to the database or Redis
        if self.llm is not None:
            await self.llm.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def _redis_client(url: str, settings: Settings) -> Redis:
    """One bounded pool for the whole process: under a burst of thousands of requests, callers
    queue for a connection (REDIS_POOL_TIMEOUT) instead of opening thousands of sockets."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=15,
    )
    return Redis.from_pool(pool)
