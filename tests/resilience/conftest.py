"""Helpers for the resilience tests: a second fake LLM (fallback endpoint), two app instances on
one Redis, and reading history rows back through the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

# Tests that need state shared through Redis between app instances use only this stack.
REDIS_ONLY = pytest.mark.parametrize("stack", ["postgres+redis"], indirect=True)


@pytest.fixture(scope="session")
def fallback_llm_server() -> Iterator[FakeLLM]:
    server = FakeLLM(model="fallback-model").start()
    yield server
    server.stop()


@pytest.fixture
def fallback_llm(fallback_llm_server: FakeLLM) -> FakeLLM:
    fallback_llm_server.reset()
    return fallback_llm_server


@asynccontextmanager
async def two_instances(
    make_client: AppFactory, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two independent apps (own process state) sharing the database and the Redis namespace,
    like two replicas behind a load balancer."""
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(make_client(**settings))
        second = await stack.enter_async_context(make_client(**settings))
        yield first, second


async def history_rows(client: httpx.AsyncClient, expected: int) -> list[dict[str, Any]]:
    """The caller's history, waiting briefly for rows still being written in the background."""
    items: list[dict[str, Any]] = []
    for _ in range(50):
        response = await client.get("/v1/history", params={"limit": 100}, headers=AUTH)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) >= expected:
            break
        await asyncio.sleep(0.1)
    return items
