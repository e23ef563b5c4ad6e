"""`/v1/jobs`: submit a task to run in the background, then poll it or receive a callback."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from backend.auth.deps import ApiKeyDep
from backend.core.deps import ResourcesDep, SessionDep
from backend.core.errors import error_body
from backend.idempotency.deps import IdempotencyKeyHeader, respond_once
from backend.jobs import metrics as _metrics  # noqa: F401  (registers the scrape hook)
from backend.jobs import service
from backend.jobs.queue import JobQueue
from backend.jobs.schemas import (
    CallbackSecretOut,
    JobAccepted,
    JobList,
    JobOut,
    JobRequest,
    JobStatus,
)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


async def get_queue(resources: ResourcesDep) -> JobQueue:
    if resources.jobs is None:
        raise service.JobsUnavailable()
    return resources.jobs


QueueDep = Annotated[JobQueue, Depends(get_queue)]


def _errors(*items: tuple[int, str, str]) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": text,
            "content": {"application/json": {"example": error_body(code, text)}},
        }
        for status, code, text in items
    }


NOT_FOUND = (404, "job_not_found", "No such job for this API key.")
UNAVAILABLE = (503, "jobs_unavailable", "Jobs need Redis (REDIS_URL) and a worker.")


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    summary="Run a task in the background",
    responses=_errors(
        (404, "unknown_task", "No such task."),
        (413, "text_too_long", "The text is longer than MAX_TEXT_CHARS."),
        (409, "idempotency_conflict", "Idempotency-Key reused with a different request."),
        (422, "validation_error", "Empty text, invalid options or callback_url."),
        UNAVAILABLE,
    ),
)
async def submit_job(
    body: JobRequest,
    key: ApiKeyDep,
    queue: QueueDep,
    session: SessionDep,
    resources: ResourcesDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> dict[str, Any]:
    async def submit() -> dict[str, Any]:
        job = await service.create_job(
            session, queue, resources.registry, resources.settings, key.id, body
        )
        return {"job_id": str(job.id), "status": job.status}

    # n8n and scripts retry on timeouts: the same Idempotency-Key returns the same job.
    accepted = await respond_once(
        resources,
        response,
        api_key_id=key.id,
        idempotency_key=idempotency_key,
        scope="POST /v1/jobs",
        body=body.model_dump(mode="json"),
        compute=submit,
        status_code=202,
    )
    response.headers["Location"] = f"/v1/jobs/{accepted['job_id']}"
    return accepted


@router.get("", response_model=JobList, summary="List your jobs (status=failed: dead letters)")
async def list_jobs(
    key: ApiKeyDep,
    session: SessionDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT_MAX)] = 50,
) -> JobList:
    jobs = await service.list_jobs(session, key.id, status, limit)
    return JobList(jobs=[service.job_out(job) for job in jobs])


@router.get(
    "/callback-secret",
    response_model=CallbackSecretOut,
    summary="The secret that signs your callbacks (created on first use)",
)
async def get_callback_secret(key: ApiKeyDep, session: SessionDep) -> CallbackSecretOut:
    return CallbackSecretOut(secret=await service.callback_secret(session, key.id))


@router.post(
    "/callback-secret/rotate",
    response_model=CallbackSecretOut,
    summary="Replace the callback secret; later deliveries use the new one",
)
async def rotate_callback_secret(key: ApiKeyDep, session: SessionDep) -> CallbackSecretOut:
    return CallbackSecretOut(secret=await service.callback_secret(session, key.id, rotate=True))


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="A job's status and result",
    responses=_errors(NOT_FOUND),
)
async def get_job(job_id: uuid.UUID, key: ApiKeyDep, session: SessionDep) -> JobOut:
    return service.job_out(await service.get_job(session, key.id, job_id))


@router.post(
    "/{job_id}/retry",
    status_code=202,
    response_model=JobAccepted,
    summary="Run a failed job again",
    responses=_errors(
        NOT_FOUND, (409, "job_not_failed", "Only failed jobs can be retried."), UNAVAILABLE
    ),
)
async def retry_job(
    job_id: uuid.UUID, key: ApiKeyDep, queue: QueueDep, session: SessionDep
) -> dict[str, Any]:
    job = await service.retry_job(session, queue, key.id, job_id)
    return {"job_id": str(job.id), "status": job.status}
