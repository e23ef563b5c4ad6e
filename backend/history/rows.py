"""History records as plain rows: what the batched writer inserts and what the spool stores.

A row is a dict with every column of the `history` table, so one `executemany` can insert a whole
batch and a spooled row can be replayed years later by a newer version (unknown keys are dropped).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from backend.history.models import HistoryRecord

Row = dict[str, Any]

HISTORY_TABLE: Table = HistoryRecord.__table__  # type: ignore[assignment]
COLUMNS: tuple[str, ...] = tuple(column.key for column in HISTORY_TABLE.columns)


# (column, Python default) pairs, computed once: walking the table's columns and the ORM's
# attribute descriptors per record showed up in the write path's profile.
_COLUMN_DEFAULTS: tuple[tuple[str, Any], ...] = tuple(
    (column.key, getattr(column.default, "arg", None) if column.default is not None else None)
    for column in HISTORY_TABLE.columns
)


def row_values(record: HistoryRecord) -> Row:
    """Every column's value, with the model's Python defaults for the ones left unset.

    ORM defaults only apply at flush time, and the batched writer never flushes an ORM object.
    """
    state = record.__dict__  # the values set on the object, without the descriptors' overhead
    row: Row = {}
    for key, default in _COLUMN_DEFAULTS:
        value = state.get(key)
        if value is None and default is not None:
            # SQLAlchemy wraps zero-argument callables so they take the execution context.
            value = default(None) if callable(default) else default
        row[key] = value
    if row["created_at"] is not None and row["created_at"].tzinfo is None:
        row["created_at"] = row["created_at"].replace(tzinfo=UTC)
    return row


def _json_default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dump_row(row: Row) -> str:
    """One line of JSON; `created_at` keeps its microseconds, so the primary key survives."""
    return json.dumps(row, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def load_row(raw: str | bytes) -> Row:
    """The row `dump_row` wrote. Raises ValueError/KeyError/TypeError on a damaged line."""
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("a spooled row must be a JSON object")
    row: Row = {key: data.get(key) for key in COLUMNS}
    row["id"] = uuid.UUID(str(data["id"]))
    row["created_at"] = datetime.fromisoformat(str(data["created_at"]))
    return row
