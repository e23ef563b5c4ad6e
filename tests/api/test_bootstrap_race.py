"""Replicas that start together store the bootstrap key once, without failing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from backend.auth.models import ApiKey
from backend.auth.service import ensure_key
from tests.conftest import API_KEY, AppFactory, app_of


async def test_concurrent_ensure_key_stores_one_row(make_client: AppFactory) -> None:
    async with make_client() as client:
        sessionmaker = app_of(client).state.resources.sessionmaker
        raw = "another-bootstrap-key-0123456789"

        async def start_replica() -> int:
            async with sessionmaker() as session, session.begin():
                return (await ensure_key(session, "bootstrap", raw)).id

        ids = await asyncio.gather(*(start_replica() for _ in range(5)))
        assert len(set(ids)) == 1
        async with sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(ApiKey))
        assert count == 2  # API_KEY from the app's own start-up, plus this one
        assert raw != API_KEY
