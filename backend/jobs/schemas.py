"""Request and response models of `/v1/jobs`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.core.errors import ErrorDetail
from backend.core.types import NON_BLANK, ChatId

JobStatus = Literal["queued", "running", "succeeded", "failed"]


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str = Field(
        min_length=1, max_length=64, description="Task name or alias (see /v1/tasks)."
    )
    text: str = Field(min_length=1, pattern=NON_BLANK, description="The text to process.")
    chat_id: ChatId | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="The task's options.")
    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description="http(s) URL that receives the finished job (POST, signed with "
        "X-Assistant-Signature). With n8n: `{{$execution.resumeUrl}}`.",
    )


class JobAccepted(BaseModel):
    job_id: uuid.UUID
    status: JobStatus = "queued"


class DeliveryAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null on no answer.")
    error: str | None = None


class CallbackOut(BaseModel):
    url: str
    status: Literal["pending", "delivered", "failed"] | None
    attempts: list[DeliveryAttempt]


class JobOut(BaseModel):
    job_id: uuid.UUID
    task: str
    status: JobStatus
    chat_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    runs: int = Field(description="How many times a worker started the job (re-queued runs count).")
    result: dict[str, Any] | None = Field(
        description="On success: the same body as the synchronous /v1/tasks answer."
    )
    error: ErrorDetail | None = Field(description="On failure: the usual error object.")
    callback: CallbackOut | None


class JobList(BaseModel):
    jobs: list[JobOut]


class CallbackSecretOut(BaseModel):
    secret: str
    header: str = "X-Assistant-Signature"
    algorithm: str = Field(
        default="sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>"
    )
