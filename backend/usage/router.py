"""`GET /v1/usage`: what the caller's key used and what it cost, per task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from backend.auth.deps import ApiKeyDep
from backend.core.deps import SessionDep
from backend.core.errors import BadRequest
from backend.db.base import as_utc
from backend.usage.schemas import UsageReport
from backend.usage.service import month_start, usage_report

router = APIRouter(prefix="/v1/usage", tags=["usage"])


@router.get("", response_model=UsageReport, summary="Usage and estimated cost of your API key")
async def get_usage(
    key: ApiKeyDep,
    session: SessionDep,
    since: Annotated[
        datetime | None, Query(description="Start (ISO 8601); default: the start of this month.")
    ] = None,
    until: Annotated[datetime | None, Query(description="End, exclusive; default: now.")] = None,
) -> UsageReport:
    now = datetime.now(UTC)
    start = as_utc(since) if since else month_start(now)
    end = as_utc(until) if until else now
    if end <= start:
        raise BadRequest("`until` must be after `since`.", code="invalid_period")
    return await usage_report(session, key.id, start, end)
