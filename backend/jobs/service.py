"""Jobs as the API sees them: submit, read, list, retry, and the callback secret.

Functions take the request's session and never commit (the request does). A job is queued only after
its row is flushed; if the enqueue fails the request fails and the row is rolled back with it. The
worker may see the id before the row commits: it then waits a moment and looks again (executor.py).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
)
from backend.db.base import utcnow
from backend.jobs.models import FAILED, QUEUED, CallbackSecret, Job
from backend.jobs.queue import JobQueue
from backend.jobs.schemas import CallbackOut, DeliveryAttempt, JobOut, JobRequest, JobStatus
from backend.tasks.registry import TaskRegistry

LIST_LIMIT_MAX = 200


class JobsUnavailable(ServiceUnavailable):
    code = "jobs_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Background jobs need Redis: set REDIS_URL (or REDIS_HOST) and run `assistant worker`."
        )


class QueueUnavailable(ServiceUnavailable):
    code = "queue_unavailable"


class JobNotFound(NotFound):
    code = "job_not_found"


def check_text(text: str, limit: int) -> None:
    """The synchronous path's checks, at submit time, so a bad job fails now and not later."""
    stripped = text.strip()
    if not stripped:
        raise Unprocessable("The text is empty.", code="empty_text")
    if len(stripped) > limit:
        raise PayloadTooLarge(
            f"The text has {len(stripped)} characters; the limit is {limit} (MAX_TEXT_CHARS).",
            code="text_too_long",
            details={"length": len(stripped), "limit": limit},
        )


def check_callback_url(url: str | None, allowed_hosts: list[str]) -> str | None:
    if url is None:
        return None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise _bad_callback("callback_url is not a valid URL.") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _bad_callback("callback_url must be an http:// or https:// URL with a host.")
    if allowed_hosts and parsed.host.lower() not in allowed_hosts:
        raise _bad_callback(
            f"callback_url's host is not allowed (JOBS_CALLBACK_HOSTS): {parsed.host}.",
        )
    return url


def _bad_callback(message: str) -> Unprocessable:
    return Unprocessable(message, code="invalid_callback_url")


async def enqueue(queue: JobQueue, job_id: uuid.UUID) -> None:
    try:
        await queue.enqueue(job_id)
    except (RedisError, OSError) as exc:
        raise QueueUnavailable("The job queue (Redis) is not reachable; try again.") from exc


async def create_job(
    session: AsyncSession,
    queue: JobQueue,
    registry: TaskRegistry,
    settings: Settings,
    api_key_id: int,
    body: JobRequest,
) -> Job:
    task = registry.get(body.task)
    options = task.parse_options(body.options)
    check_text(body.text, settings.max_text_chars)
    callback_url = check_callback_url(body.callback_url, settings.jobs_callback_hosts)
    job = Job(
        id=uuid.uuid4(),
        api_key_id=api_key_id,
        task=task.name,
        text=body.text,
        chat_id=body.chat_id,
        options=options.model_dump(mode="json"),
        callback_url=callback_url,
        status=QUEUED,
        runs=0,
        deliveries=[],
        created_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    await enqueue(queue, job.id)
    return job


async def get_job(session: AsyncSession, api_key_id: int, job_id: uuid.UUID) -> Job:
    job = await session.get(Job, job_id)
    # Someone else's job is as unknown as a missing one: ids are not secrets, but results are.
    if job is None or job.api_key_id != api_key_id:
        raise JobNotFound(f"No job {job_id}.")
    return job


async def list_jobs(
    session: AsyncSession, api_key_id: int, status: JobStatus | None, limit: int
) -> list[Job]:
    query = select(Job).where(Job.api_key_id == api_key_id)
    if status is not None:
        query = query.where(Job.status == status)
    query = query.order_by(Job.created_at.desc(), Job.id).limit(min(limit, LIST_LIMIT_MAX))
    return list((await session.scalars(query)).all())


async def retry_job(
    session: AsyncSession, queue: JobQueue, api_key_id: int, job_id: uuid.UUID
) -> Job:
    job = await get_job(session, api_key_id, job_id)
    if job.status != FAILED:
        raise Conflict(
            f"Only failed jobs can be retried; this one is {job.status}.",
            code="job_not_failed",
            details={"status": job.status},
        )
    job.status = QUEUED
    job.error = None
    job.result = None
    job.started_at = job.finished_at = None
    job.callback_status = None
    job.deliveries = []
    await session.flush()
    await enqueue(queue, job.id)
    return job


async def callback_secret(session: AsyncSession, api_key_id: int, *, rotate: bool = False) -> str:
    """The key's callback secret, created on first use; `rotate` replaces it."""
    fresh = secrets.token_hex(32)
    values: dict[str, Any] = {"api_key_id": api_key_id, "secret": fresh, "created_at": utcnow()}
    is_pg = session.get_bind().dialect.name == "postgresql"
    stmt = (pg_insert if is_pg else sqlite_insert)(CallbackSecret).values(**values)
    # Concurrent first uses (the API and a worker) must agree on one secret: insert-or-keep.
    if rotate:
        stmt = stmt.on_conflict_do_update(
            index_elements=["api_key_id"],
            set_={"secret": fresh, "created_at": values["created_at"]},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["api_key_id"])
    await session.execute(stmt)
    secret = await session.scalar(
        select(CallbackSecret.secret).where(CallbackSecret.api_key_id == api_key_id)
    )
    assert secret is not None
    return secret


def job_out(job: Job) -> JobOut:
    callback = (
        CallbackOut(
            url=job.callback_url,
            status=job.callback_status,
            attempts=[DeliveryAttempt.model_validate(a) for a in job.deliveries or []],
        )
        if job.callback_url
        else None
    )
    return JobOut(
        job_id=job.id,
        task=job.task,
        status=job.status,
        chat_id=job.chat_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        runs=job.runs,
        result=job.result,
        error=job.error,
        callback=callback,
    )
