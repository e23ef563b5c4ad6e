from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntId, JSONType, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
TERMINAL = (SUCCEEDED, FAILED)
# callback_status: NULL (no callback_url), then pending → delivered | failed.
PENDING, DELIVERED = "pending", "delivered"


class Job(Base):
    """One background task request. The queue (Redis) carries only `id`; everything else is here.

    `run_token` fences a run: a worker claims the row (queued → running) with a fresh token and
    every later write checks it, so a run whose lease expired never overwrites the one after it.
    """

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    api_key_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("api_keys.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    callback_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100), default=None)
    run_token: Mapped[str | None] = mapped_column(String(36), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    callback_status: Mapped[str | None] = mapped_column(String(16), default=None)
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_jobs_api_key_id_status_created_at", "api_key_id", "status", "created_at"),
        Index("ix_jobs_status", "status"),
    )


class CallbackSecret(Base):
    """The secret that signs a key's callbacks (HMAC-SHA256). Created on first use, rotatable."""

    __tablename__ = "job_callback_secrets"

    api_key_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
