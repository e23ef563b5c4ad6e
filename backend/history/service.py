"""Reads the history, always within one API key's own records."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.core.errors import BadRequest
from backend.db.base import as_utc
from backend.history.models import HistoryRecord


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    api_key_id: int
    chat_id: int | None = None
    task: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    contains: str | None = None
    limit: int = 20
    newest_first: bool = True


def encode_cursor(record: HistoryRecord) -> str:
    raw = f"{record.created_at.isoformat()}|{record.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, record_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(record_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            "The cursor is not valid; use next_cursor from a previous page.", code="invalid_cursor"
        ) from exc


def optional_utc(value: datetime | None) -> datetime | None:
    """`as_utc` for optional bounds: SQLite compares stored timestamps as UTC text."""
    return None if value is None else as_utc(value)


def _filtered(query: HistoryFilter) -> Select[HistoryRecord]:
    query = replace(query, since=optional_utc(query.since), until=optional_utc(query.until))
    stmt = select(HistoryRecord).where(HistoryRecord.api_key_id == query.api_key_id)
    if query.chat_id is not None:
        stmt = stmt.where(HistoryRecord.chat_id == query.chat_id)
    if query.task is not None:
        stmt = stmt.where(HistoryRecord.task == query.task)
    if query.since is not None:
        stmt = stmt.where(HistoryRecord.created_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(HistoryRecord.created_at < query.until)
    if query.contains:
        pattern = f"%{_escape_like(query.contains)}%"
        stmt = stmt.where(
            or_(
                HistoryRecord.input_text.ilike(pattern, escape="\\"),
                HistoryRecord.output_text.ilike(pattern, escape="\\"),
            )
        )
    return stmt


async def list_history(
    session: AsyncSession, query: HistoryFilter, cursor: str | None = None
) -> tuple[list[HistoryRecord], str | None]:
    """One page, newest first (or oldest first), with a keyset cursor for the next one."""
    stmt = _filtered(query)
    if query.newest_first:
        order = (HistoryRecord.created_at.desc(), HistoryRecord.id.desc())
    else:
        order = (HistoryRecord.created_at.asc(), HistoryRecord.id.asc())
    if cursor:
        created, record_id = decode_cursor(cursor)
        created = as_utc(created)
        if query.newest_first:
            stmt = stmt.where(
                or_(
                    HistoryRecord.created_at < created,
                    and_(HistoryRecord.created_at == created, HistoryRecord.id < record_id),
                )
            )
        else:
            stmt = stmt.where(
                or_(
                    HistoryRecord.created_at > created,
                    and_(HistoryRecord.created_at == created, HistoryRecord.id > record_id),
                )
            )
    rows = list((await session.scalars(stmt.order_by(*order).limit(query.limit + 1))).all())
    next_cursor = encode_cursor(rows[query.limit - 1]) if len(rows) > query.limit else None
    return rows[: query.limit], next_cursor


async def iter_history(
    sessionmaker: async_sessionmaker[AsyncSession], query: HistoryFilter, batch: int = 500
) -> AsyncIterator[list[HistoryRecord]]:
    """Every matching record, in pages of `batch`, each read in its own short transaction.

    Keyset pages keep memory flat however big the export is, and no connection is held while the
    client downloads a page.
    """
    page_query = replace(query, limit=batch)
    cursor: str | None = None
    while True:
        async with sessionmaker() as session:
            rows, cursor = await list_history(session, page_query, cursor)
        if rows:
            yield rows
        if cursor is None:
            return


async def get_record(
    session: AsyncSession, api_key_id: int, record_id: uuid.UUID
) -> HistoryRecord | None:
    stmt = select(HistoryRecord).where(
        HistoryRecord.id == record_id, HistoryRecord.api_key_id == api_key_id
    )
    return (await session.scalars(stmt)).first()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
