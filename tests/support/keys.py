"""Create extra API keys inside a running test app (another caller, or one with its own limits)."""

from __future__ import annotations

import httpx

from backend.auth.service import create_key, set_limits
from tests.conftest import app_of


async def new_key(
    client: httpx.AsyncClient,
    name: str = "other",
    *,
    rate_limit: str | None = None,
    monthly_budget_usd: float | None = None,
) -> tuple[int, dict[str, str]]:
    """A new key in the app's database: its id and the headers that authenticate with it."""
    sessionmaker = app_of(client).state.resources.sessionmaker
    async with sessionmaker() as session, session.begin():
        row, raw = await create_key(session, name)
        await set_limits(
            session, row.id, rate_limit=rate_limit, monthly_budget_usd=monthly_budget_usd
        )
        return row.id, {"x-api-key": raw}
