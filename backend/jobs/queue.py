"""The arq side of the API: put a job id on the queue, read the queue depth.

The queue carries only our job id (the row in the database holds the rest), serialized as JSON
rather than arq's default pickle, so whoever can write to Redis still cannot make a worker unpickle
arbitrary objects.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis

from backend.observability.metrics import JOBS_QUEUE_DEPTH

RUN_JOB = "run_job"


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw)


class JobQueue:
    def __init__(self, redis: Redis, queue_name: str) -> None:
        # Shares the service's Redis connection pool: no extra connections, nothing to close
        # besides that pool, and no connection attempt at start-up (like the cache).
        self._arq = ArqRedis(
            redis.connection_pool,
            job_serializer=dumps,
            job_deserializer=loads,
            default_queue_name=queue_name,
        )
        self.name = queue_name

    async def enqueue(self, job_id: uuid.UUID, *, defer_s: float | None = None) -> bool:
        """Queue a run of the job; False when arq already holds it (queued or running)."""
        # arq job id = our job id: arq refuses a second copy while one is queued or running.
        job = await self._arq.enqueue_job(
            RUN_JOB, str(job_id), _job_id=str(job_id), _defer_by=defer_s
        )
        await self.refresh_depth()
        return job is not None

    async def depth(self) -> int:
        return int(await self._arq.zcard(self.name))

    async def refresh_depth(self) -> int:
        depth = await self.depth()
        JOBS_QUEUE_DEPTH.set(depth)
        return depth
