"""The arq worker behind `assistant worker`: same Resources (TaskRunner, cache, LLM gateway,
history) as the API, one function (`run_job`), and a cron that re-queues orphaned jobs.

Shutdown: on SIGTERM/SIGINT arq stops taking jobs, lets running ones finish for up to
JOBS_SHUTDOWN_GRACE seconds, then cancels the rest; a cancelled job goes back to `queued` (executor)
and stays on arq's queue, so another worker runs it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from arq import Retry, Worker, cron, func
from arq.connections import RedisSettings

from backend.core.config import Settings
from backend.core.resources import Resources
from backend.jobs.callbacks import CallbackSender
from backend.jobs.executor import JobExecutor, RunLater, lease_seconds, recover_orphans, worker_name
from backend.jobs.queue import RUN_JOB, dumps, loads
from backend.offline.language import warm_up
from backend.tasks.registry import TaskRegistry

logger = logging.getLogger(__name__)

# arq counts every start of a job id: waits for the row, re-queues after shutdowns. Past this,
# arq drops the id and the recovery cron puts it back from the database.
MAX_TRIES = 50
READY_MESSAGE = "worker ready"


async def run_job(ctx: dict[str, Any], job_id: str) -> None:
    executor: JobExecutor = ctx["executor"]
    try:
        await executor.run(uuid.UUID(job_id), look=int(ctx.get("job_try", 1)))
    except RunLater as later:
        raise Retry(defer=later.defer_s) from later


async def recover_jobs(ctx: dict[str, Any]) -> int:
    return await recover_orphans(ctx["resources"])


def build_worker(settings: Settings, *, burst: bool = False, handle_signals: bool = True) -> Worker:
    redis_url = settings.effective_redis_url
    if redis_url is None:
        raise RuntimeError("background jobs need Redis: set REDIS_URL")
    registry = TaskRegistry.discover()
    name = worker_name()

    async def startup(ctx: dict[str, Any]) -> None:
        resources = await Resources.open(settings, registry)
        sender = CallbackSender(settings)
        ctx["resources"] = resources
        ctx["sender"] = sender
        ctx["executor"] = JobExecutor(resources, sender, name)
        # Load the language models now, not inside the first job (seconds of delay otherwise).
        await asyncio.to_thread(warm_up)
        recovered = await recover_orphans(resources)
        logger.info(
            READY_MESSAGE,
            extra={"worker": name, "queue": settings.jobs_queue, "recovered": recovered},
        )
        # Tests and supervisors wait for this line.
        print(f"{READY_MESSAGE}: {name}", flush=True)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["sender"].aclose()
        await ctx["resources"].close()

    async def refresh_depth(ctx: dict[str, Any]) -> None:
        resources: Resources = ctx["resources"]
        if resources.jobs is not None:
            await resources.jobs.refresh_depth()

    return Worker(
        functions=[func(run_job, name=RUN_JOB, max_tries=MAX_TRIES)],
        # One recovery per minute across all workers: the cron's job id is unique per run time.
        cron_jobs=[
            cron(
                recover_jobs,
                name=f"recover:{settings.jobs_queue}",
                second=0,
                unique=True,
                run_at_startup=False,
            )
        ],
        queue_name=settings.jobs_queue,
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        after_job_end=refresh_depth,
        handle_signals=handle_signals,
        job_completion_wait=settings.jobs_shutdown_grace,
        max_jobs=settings.jobs_concurrency,
        job_timeout=lease_seconds(settings),
        # Results live in the database; arq keeps none, so a retried job can reuse its id.
        keep_result=0,
        poll_delay=settings.jobs_poll_delay,
        burst=burst,
        job_serializer=dumps,
        job_deserializer=loads,
        health_check_interval=60,
        log_results=False,
    )
