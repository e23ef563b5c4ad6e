from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, JSONType, utcnow


class HistoryRecord(Base):
    """One row per task request, whatever the task.

    The primary key includes `created_at` because on PostgreSQL the table is range-partitioned by
    month on it (see the initial migration); a replayed record with the same (id, created_at) is a
    no-op, which makes writes idempotent.
    """

    __tablename__ = "history"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(primary_key=True, default=utcnow)
    api_key_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    task: Mapped[str] = mapped_column(String(32))
    input_text: Mapped[str] = mapped_column(Text)
    output_text: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    model: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str | None] = mapped_column(String(200), default=None)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    coalesced: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    cost_usd: Mapped[float | None] = mapped_column(Float, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_history_chat_id", "chat_id"),
        Index("ix_history_task", "task"),
        Index("ix_history_created_at", "created_at"),
        Index("ix_history_chat_id_task", "chat_id", "task"),
        Index("ix_history_api_key_id_created_at", "api_key_id", "created_at"),
    )
