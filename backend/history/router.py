"""`/v1/history`: the caller key's own records, newest first, with keyset pagination."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from backend.auth.deps import ApiKeyDep
from backend.core.deps import RegistryDep, SessionDep
from backend.core.errors import NotFound
from backend.core.types import ChatId
from backend.history.schemas import HistoryItem, HistoryPage
from backend.history.service import HistoryFilter, get_record, list_history

router = APIRouter(prefix="/v1/history", tags=["history"])


@router.get("", response_model=HistoryPage, summary="List your history, newest first")
async def read_history(
    key: ApiKeyDep,
    session: SessionDep,
    registry: RegistryDep,
    chat_id: Annotated[ChatId | None, Query()] = None,
    task: Annotated[str | None, Query(description="Task name or alias.")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text contains.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> HistoryPage:
    task_name = registry.get(task).name if task else None
    query = HistoryFilter(
        api_key_id=key.id,
        chat_id=chat_id,
        task=task_name,
        since=since,
        until=until,
        contains=q,
        limit=limit,
    )
    rows, next_cursor = await list_history(session, query, cursor)
    return HistoryPage(items=[HistoryItem.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{record_id}", response_model=HistoryItem, summary="One history record")
async def read_record(record_id: uuid.UUID, key: ApiKeyDep, session: SessionDep) -> HistoryItem:
    row = await get_record(session, key.id, record_id)
    if row is None:
        raise NotFound("No history record with that id.", code="history_not_found")
    return HistoryItem.model_validate(row)
