"""Streams history as CSV or JSON Lines, page by page, without holding it all in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from backend.history.models import HistoryRecord
from backend.history.schemas import HistoryItem

ExportFormat = Literal["csv", "jsonl"]

MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
CSV_COLUMNS: tuple[str, ...] = tuple(HistoryItem.model_fields)
# Spreadsheets run cells that start with these as formulas ("CSV injection"); user texts are
# data, so such cells get a leading apostrophe, which spreadsheets show as plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _item(row: HistoryRecord) -> dict[str, Any]:
    return HistoryItem.model_validate(row).model_dump(mode="json")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_lines(rows: list[dict[str, Any]], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


async def render(
    pages: AsyncIterator[list[HistoryRecord]], fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """One chunk per page; a CSV always starts with its header row, even when empty."""
    if fmt == "csv":
        yield _csv_lines([], header=True).encode()
    async for page in pages:
        items = [_item(row) for row in page]
        if fmt == "csv":
            yield _csv_lines(items, header=False).encode()
        else:
            yield "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode()
