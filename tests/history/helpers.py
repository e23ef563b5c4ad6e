"""Seeding history directly through the app's own recorder, with chosen timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from backend.auth.models import ApiKey
from backend.auth.service import BOOTSTRAP_NAME, create_key
from backend.history.models import HistoryRecord
from tests.conftest import app_of


async def other_key(client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    resources = app_of(client).state.resources
    async with resources.sessionmaker() as session, session.begin():
        row, raw = await create_key(session, f"other-{uuid.uuid4().hex[:6]}")
    return row.id, {"x-api-key": raw}


async def bootstrap_key_id(client: httpx.AsyncClient) -> int:
    """The id of the key tests call with (AUTH)."""
    resources = app_of(client).state.resources
    async with resources.sessionmaker() as session:
        key_id = await session.scalar(select(ApiKey.id).where(ApiKey.name == BOOTSTRAP_NAME))
    assert key_id is not None
    return int(key_id)


async def seed(
    client: httpx.AsyncClient,
    api_key_id: int,
    *,
    task: str = "summarize",
    chat_id: int | None = 1,
    at: datetime | None = None,
    text: str = "some text",
    output: str | None = None,
    **overrides: Any,
) -> HistoryRecord:
    record = HistoryRecord(
        id=uuid.uuid4(),
        created_at=at or datetime.now(UTC),
        api_key_id=api_key_id,
        chat_id=chat_id,
        task=task,
        input_text=text,
        output_text=output if output is not None else f"[{task}] {text}",
        result={"text": text},
        options={},
        language="es",
        model="offline",
        **overrides,
    )
    await app_of(client).state.resources.recorder.record(record)
    return record
