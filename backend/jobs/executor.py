"""Runs one job in a worker: claim the row, run the task with the shared TaskRunner, store the
outcome, deliver the callback.

Exactly once: arq runs one copy of a job id at a time, and the database is the second guard. A run
first claims the row (queued → running, one UPDATE with a fresh `run_token` and a lease); a row that
is already running under a live lease, or finished, is not run again. Every later write is fenced by
the token. A run cancelled by a shutdown puts its row back to `queued` before arq re-queues it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update

from backend.core.errors import AppError
from backend.core.resources import Resources
from backend.db.base import as_utc, utcnow
from backend.jobs.callbacks import CallbackSender
from backend.jobs.models import DELIVERED, FAILED, PENDING, QUEUED, RUNNING, SUCCEEDED, Job
from backend.jobs.service import callback_secret, job_out
from backend.tasks.schemas import outcome_to_dict

logger = logging.getLogger(__name__)

# The API enqueues before its transaction commits; give the row this many looks to appear.
MISSING_ROW_LOOKS = 10
RECOVER_BATCH = 1000
T = TypeVar("T")


class RunLater(Exception):
    """Not now: the row is not visible yet, or another run still holds its lease."""

    def __init__(self, defer_s: float) -> None:
        super().__init__(f"run again in {defer_s:.1f}s")
        self.defer_s = defer_s


@dataclass(frozen=True, slots=True)
class Claim:
    job: Job
    token: str


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease_seconds(settings: Any) -> float:
    """How long a run may hold its job: the task's time, all callback attempts, and a margin.

    arq's own "in progress" key lives as long (job_timeout + 10 s), so both guards expire together.
    """
    delivery = settings.jobs_callback_attempts * (
        settings.jobs_callback_timeout + settings.jobs_callback_backoff_max
    )
    return float(settings.jobs_timeout + delivery + 30)


class JobExecutor:
    def __init__(self, resources: Resources, sender: CallbackSender, name: str) -> None:
        self._resources = resources
        self._sessionmaker = resources.sessionmaker
        self._sender = sender
        self._name = name
        self._lease = timedelta(seconds=lease_seconds(resources.settings) + 10)

    async def run(self, job_id: uuid.UUID, look: int = 1) -> None:
        # A shutdown may cancel the run while the claim is being written: let the claim finish,
        # then hand the job back, or the row would stay `running` until its lease expires.
        claiming = asyncio.ensure_future(self._claim(job_id))
        try:
            state = await asyncio.shield(claiming)
        except asyncio.CancelledError:
            state = await claiming
            if isinstance(state, Claim):
                await self._release(state)
            raise
        if state is None:
            if look < MISSING_ROW_LOOKS:
                raise RunLater(0.2 * look)
            logger.warning("job row never appeared; dropping it", extra={"job_id": str(job_id)})
            return
        if isinstance(state, Job):
            await self._not_claimed(state)
            return
        try:
            status, result, error = await self._execute(state.job)
        except asyncio.CancelledError:
            # Shutdown (or arq's timeout): hand the job back so the next worker runs it.
            await _to_the_end(self._release(state))
            raise
        finished = await _to_the_end(self._finish(state, status, result, error))
        if finished is not None and finished.callback_status == PENDING:
            await self.deliver(finished)

    async def _not_claimed(self, job: Job) -> None:
        if job.status in (SUCCEEDED, FAILED):
            if job.callback_status == PENDING:  # a previous run stopped while delivering
                await self.deliver(job)
            return
        if job.status == RUNNING and job.locked_until is not None:
            remaining = (as_utc(job.locked_until) - utcnow()).total_seconds()
            raise RunLater(min(max(remaining, 1.0), 10.0))

    async def _claim(self, job_id: uuid.UUID) -> Claim | Job | None:
        now, token = utcnow(), uuid.uuid4().hex
        async with self._sessionmaker() as session, session.begin():
            claimed = await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .where(
                    or_(
                        Job.status == QUEUED,
                        and_(Job.status == RUNNING, Job.locked_until < now),
                    )
                )
                .values(
                    status=RUNNING,
                    runs=Job.runs + 1,
                    worker=self._name,
                    run_token=token,
                    started_at=now,
                    locked_until=now + self._lease,
                )
                .execution_options(synchronize_session=False)
            )
            job = await session.get(Job, job_id, populate_existing=True)
        if job is None:
            return None
        return Claim(job, token) if claimed.rowcount == 1 else job  # type: ignore[attr-defined]

    async def _execute(self, job: Job) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        resources = self._resources
        try:
            task = resources.registry.get(job.task)
            options = task.parse_options(job.options)
            async with asyncio.timeout(resources.settings.jobs_timeout):
                outcome = await resources.runner.run(
                    task, job.text, options, api_key_id=job.api_key_id, chat_id=job.chat_id
                )
        except AppError as exc:
            return FAILED, None, {"code": exc.code, "message": exc.message, "details": exc.details}
        except TimeoutError:
            return FAILED, None, _error("job_timeout", "The task took longer than JOBS_TIMEOUT.")
        except Exception:
            logger.exception("job failed unexpectedly", extra={"job_id": str(job.id)})
            return FAILED, None, _error("internal_error", "Unexpected error; it has been logged.")
        return SUCCEEDED, outcome_to_dict(outcome), None

    async def _finish(
        self,
        claim: Claim,
        status: str,
        result: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> Job | None:
        job_id = claim.job.id
        async with self._sessionmaker() as session, session.begin():
            done = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.run_token == claim.token)
                .values(
                    status=status,
                    result=result,
                    error=error,
                    finished_at=utcnow(),
                    run_token=None,
                    locked_until=None,
                    callback_status=PENDING if claim.job.callback_url else None,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                # Our lease ran out and another run took the job over: its outcome wins.
                logger.warning("job run lost its lease", extra={"job_id": str(job_id)})
                return None
            return await session.get(Job, job_id, populate_existing=True)

    async def _release(self, claim: Claim) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == claim.job.id, Job.run_token == claim.token)
                .values(status=QUEUED, run_token=None, locked_until=None, worker=None)
                .execution_options(synchronize_session=False)
            )

    async def deliver(self, job: Job) -> None:
        assert job.callback_url is not None
        async with self._sessionmaker() as session, session.begin():
            secret = await callback_secret(session, job.api_key_id)
        body = job_out(job).model_dump_json(exclude={"callback"}).encode()

        async def record(status_code: int | None, error: str | None) -> None:
            async with self._sessionmaker() as session, session.begin():
                row = await session.get(Job, job.id, with_for_update=True, populate_existing=True)
                if row is None:
                    return
                attempts = list(row.deliveries or [])
                attempts.append(
                    {
                        "attempt": len(attempts) + 1,
                        "at": utcnow().isoformat(),
                        "status_code": status_code,
                        "error": error,
                    }
                )
                row.deliveries = attempts

        delivered = await self._sender.deliver(job.callback_url, body, secret, job.id, record)
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(callback_status=DELIVERED if delivered else FAILED)
                .execution_options(synchronize_session=False)
            )


async def recover_orphans(resources: Resources) -> int:
    """Put back on the queue every job the database says needs a run that arq may have lost:
    queued ones, running ones whose lease expired, finished ones with an undelivered callback.

    Safe at any time: arq refuses an id it already holds, and the claim refuses a finished job.
    """
    queue = resources.jobs
    if queue is None:
        return 0
    now = utcnow()
    async with resources.sessionmaker() as session:
        ids = (
            await session.scalars(
                select(Job.id)
                .where(
                    or_(
                        Job.status == QUEUED,
                        and_(Job.status == RUNNING, Job.locked_until < now),
                        Job.callback_status == PENDING,
                    )
                )
                .limit(RECOVER_BATCH)
            )
        ).all()
    requeued = 0
    for job_id in ids:
        requeued += await queue.enqueue(job_id)
    return requeued


async def _to_the_end(write: Coroutine[Any, Any, T]) -> T:
    """Finish a short database write even when the run is cancelled meanwhile, then let the
    cancellation through: the row must never be left half-way (and the worker closes its engine
    right after its runs end)."""
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": {}}
