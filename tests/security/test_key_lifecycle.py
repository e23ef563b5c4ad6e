"""Key expiry and the breaker's observability: what operators rely on when something goes wrong."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from backend.auth.service import create_key
from backend.cli import app as cli
from tests.conftest import AUTH, AppFactory, Stack, app_of
from tests.support.fake_llm import FakeLLM


async def test_expired_key_is_refused(make_client: AppFactory) -> None:
    async with make_client() as client:
        sessionmaker = app_of(client).state.resources.sessionmaker
        async with sessionmaker() as session, session.begin():
            _, short = await create_key(session, "short", expires_in=timedelta(seconds=1))
            _, long = await create_key(session, "long", expires_in=timedelta(days=30))
        assert (await client.get("/v1/tasks", headers={"x-api-key": short})).status_code == 200
        await asyncio.sleep(1.5)  # also past the copy cached in Redis
        expired = await client.get("/v1/tasks", headers={"x-api-key": short})
        assert expired.status_code == 401
        assert expired.json()["error"]["code"] == "unauthorized"
        assert (await client.get("/v1/tasks", headers={"x-api-key": long})).status_code == 200


async def test_cli_creates_expiring_keys(
    make_client: AppFactory, stack: Stack, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", stack.database_url)
    monkeypatch.setenv("REDIS_URL", stack.redis_url or "")
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    async with make_client() as client:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["keys", "create", "--name", "temp", "--expires-in-days", "2"]
        )
        assert result.exit_code == 0, result.output
        assert "expires=" in result.output
        raw = result.stdout.strip().splitlines()[-1]
        assert (await client.get("/v1/tasks", headers={"x-api-key": raw})).status_code == 200
        listing = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "list"])
        assert any("\ttemp\t" in line and "expires" in line for line in listing.stdout.splitlines())


def _transitions(state: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "assistant_breaker_transitions":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total") and s.labels.get("state") == state
            )
    return total


async def test_breaker_changes_and_fallbacks_are_counted(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    opened, closed = _transitions("open"), _transitions("closed")
    fake_llm.fail(times=2, status=500)
    settings = {
        "openai_max_retries": 0,
        "openai_breaker_failures": 2,
        "openai_breaker_cooldown": 0.5,
    }
    async with make_client(llm=fake_llm, **settings) as client:
        for n in range(2):
            degraded = await client.post(
                "/v1/tasks/summarize", json={"text": f"Uno {n}. Dos."}, headers=AUTH
            )
            assert degraded.json()["degraded"] is True
        assert _transitions("open") == opened + 1
        await asyncio.sleep(0.8)
        ok = await client.post("/v1/tasks/summarize", json={"text": "Tres. Cuatro."}, headers=AUTH)
        assert ok.json()["degraded"] is False
        assert _transitions("closed") == closed + 1
        metrics = (await client.get("/metrics")).text
        assert "assistant_llm_fallbacks_total{from_endpoint=" in metrics
        assert 'to_endpoint="offline"' in metrics
