"""`/v1/history`: the caller key's own records: list, export, one record, and questions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from backend.auth.deps import ApiKeyDep
from backend.core.deps import RegistryDep, ResourcesDep, SessionDep
from backend.core.errors import NotFound
from backend.core.types import ChatId
from backend.history import export
from backend.history.ask import ask_history
from backend.history.models import HistoryRecord
from backend.history.schemas import AskFilterOut, AskIn, AskOut, HistoryItem, HistoryPage
from backend.history.service import HistoryFilter, get_record, iter_history, list_history
from backend.tasks.registry import TaskRegistry

router = APIRouter(prefix="/v1/history", tags=["history"])

EXPORT_BATCH = 500


async def history_filter(
    key: ApiKeyDep,
    registry: RegistryDep,
    chat_id: Annotated[ChatId | None, Query()] = None,
    task: Annotated[
        str | None, Query(max_length=64, description="Task name or alias (resumir, summarize…).")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this instant (naive = UTC).")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant (exclusive).")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text contains.")] = None,
) -> HistoryFilter:
    """The filters every history read shares, always scoped to the caller's own key."""
    return HistoryFilter(
        api_key_id=key.id,
        chat_id=chat_id,
        task=_task_name(task, registry),
        since=since,
        until=until,
        contains=q or None,
    )


HistoryFilterDep = Annotated[HistoryFilter, Depends(history_filter)]


def _task_name(task: str | None, registry: TaskRegistry) -> str | None:
    return registry.get(task).name if task else None


@router.get("", response_model=HistoryPage, summary="List your history, newest first")
async def read_history(
    query: HistoryFilterDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> HistoryPage:
    rows, next_cursor = await list_history(session, replace(query, limit=limit), cursor)
    return HistoryPage(items=[HistoryItem.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/export",
    summary="Download your history as CSV or JSON Lines (streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/x-ndjson": {}},
            "description": "Every matching record, newest first.",
        }
    },
)
async def export_history(
    query: HistoryFilterDep,
    resources: ResourcesDep,
    fmt: Annotated[export.ExportFormat, Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    pages = iter_history(resources.sessionmaker, query, EXPORT_BATCH)
    # Read the first page now: a database error then gets a proper error response instead of
    # a 200 with a truncated body.
    first = await anext(pages, None)

    async def all_pages() -> AsyncIterator[list[HistoryRecord]]:
        if first is not None:
            yield first
            async for page in pages:
                yield page

    return StreamingResponse(
        export.render(all_pages(), fmt),
        media_type=export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="history.{fmt}"'},
    )


@router.post("/ask", response_model=AskOut, summary="Ask about your history in plain language")
async def ask(
    body: AskIn,
    key: ApiKeyDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> AskOut:
    """Spanish or English ("mis últimos 3 resúmenes", "last week's classifications"). Only ever
    reads your own records of `chat_id`, whatever the question says."""
    result = await ask_history(
        session,
        llm=resources.llm,
        registry=resources.registry,
        api_key_id=key.id,
        chat_id=body.chat_id,
        question=body.question,
    )
    return AskOut(
        filter=AskFilterOut(**result.filter.model_dump(), source=result.source),
        items=[HistoryItem.model_validate(r) for r in result.rows],
        answer=result.answer,
    )


@router.get("/{record_id}", response_model=HistoryItem, summary="One history record")
async def read_record(record_id: uuid.UUID, key: ApiKeyDep, session: SessionDep) -> HistoryItem:
    row = await get_record(session, key.id, record_id)
    if row is None:
        raise NotFound("No history record with that id.", code="history_not_found")
    return HistoryItem.model_validate(row)
