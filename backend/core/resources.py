"""Everything with a connection or a pool, built once in the app lifespan and closed with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.cache.backend import Cache, MemoryCache, RedisCache
from backend.core.config import Settings
from backend.db.engine import create_engine, create_sessionmaker
from backend.history.recorder import HistoryRecorder
from backend.llm.gateway import LLMGateway
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

    @classmethod
    async def open(cls, settings: Settings, registry: TaskRegistry) -> Resources:
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        redis_url = settings.effective_redis_url
        redis = (
            Redis.from_url(
                redis_url,
                socket_timeout=2,
                socket_connect_timeout=2,
                health_check_interval=15,
            )
            if redis_url
            else None
        )
        cache: Cache = (
            RedisCache(redis, settings.redis_key_prefix)
            if redis is not None
            else MemoryCache(settings.memory_cache_max_items)
        )
        llm = LLMGateway(settings) if settings.llm_enabled else None
        recorder = HistoryRecorder(sessionmaker)
        runner = TaskRunner(settings, cache, llm, recorder)
        logger.info(
            "resources ready",
            extra={
                "database": engine.dialect.name,
                "cache": cache.name,
                "llm": llm.endpoint.name if llm else "offline",
            },
        )
        return cls(settings, engine, sessionmaker, redis, cache, llm, registry, recorder, runner)

    async def close(self) -> None:
        if self.llm is not None:
            await self.llm.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()
