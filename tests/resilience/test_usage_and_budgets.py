"""Usage numbers and estimated cost per key; monthly budgets (402); the CLI that sets limits."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from backend.cli import app as cli
from tests.conftest import AUTH, AppFactory, Stack
from tests.resilience.conftest import history_rows
from tests.support.fake_llm import FakeLLM
from tests.support.keys import new_key

# USD per 1M tokens for the fake upstream's model name.
PRICES = {"fake-model": {"input": 1000.0, "output": 2000.0}}


def text(n: int) -> str:
    return f"Informe número {n}. Las ventas crecieron. El equipo contrató a dos personas."


async def test_usage_adds_up(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm, llm_prices=PRICES) as client:
        answers = []
        for n in range(2):
            r = await client.post("/v1/tasks/summarize", json={"text": text(n)}, headers=AUTH)
            answers.append(r.json())
        cached = await client.post("/v1/tasks/summarize", json={"text": text(0)}, headers=AUTH)
        assert cached.json()["cached"] is True and cached.json()["usage"] is None
        classified = await client.post(
            "/v1/tasks/classify", json={"text": "urgente: factura impagada"}, headers=AUTH
        )
        answers.append(classified.json())
        await history_rows(client, 4)

        usage = (await client.get("/v1/usage", headers=AUTH)).json()
        prompt = sum(a["usage"]["prompt_tokens"] for a in answers)
        completion = sum(a["usage"]["completion_tokens"] for a in answers)
        assert usage["requests"] == 4
        assert usage["cached"] == 1
        assert usage["upstream_calls"] == fake_llm.calls == 3
        assert usage["prompt_tokens"] == prompt
        assert usage["completion_tokens"] == completion
        expected_cost = (prompt * 1000.0 + completion * 2000.0) / 1_000_000
        assert usage["cost_usd"] == pytest.approx(expected_cost, rel=1e-6)
        assert sum(a["cost_usd"] for a in answers) == pytest.approx(expected_cost, rel=1e-6)
        assert usage["by_task"]["summarize"]["requests"] == 3
        assert usage["by_task"]["classify"]["requests"] == 1

        # Another key sees only its own (empty) usage.
        _, other = await new_key(client)
        theirs = (await client.get("/v1/usage", headers=other)).json()
        assert theirs["requests"] == 0 and theirs["by_task"] == {}

        # A window in the past contains nothing.
        past = await client.get(
            "/v1/usage",
            params={"since": "2020-01-01T00:00:00Z", "until": "2020-02-01T00:00:00Z"},
            headers=AUTH,
        )
        assert past.json()["requests"] == 0


async def test_usage_rejects_an_empty_period(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.get(
            "/v1/usage",
            params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            headers=AUTH,
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_period"


async def test_budget_exceeded_is_402_but_cached_answers_are_served(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, llm_prices=PRICES) as client:
        _, capped = await new_key(client, "capped", monthly_budget_usd=0.01)
        first = await client.post("/v1/tasks/summarize", json={"text": text(1)}, headers=capped)
        assert first.status_code == 200 and first.json()["cost_usd"] > 0.01
        await history_rows(client, 0)
        await asyncio.sleep(0.2)

        refused = await client.post("/v1/tasks/summarize", json={"text": text(2)}, headers=capped)
        assert refused.status_code == 402
        error = refused.json()["error"]
        assert error["code"] == "budget_exceeded"
        assert error["details"]["budget_usd"] == 0.01
        assert fake_llm.calls == 1

        again = await client.post("/v1/tasks/summarize", json={"text": text(1)}, headers=capped)
        assert again.status_code == 200 and again.json()["cached"] is True

        # Keys without a budget are not affected.
        free = await client.post("/v1/tasks/summarize", json={"text": text(3)}, headers=AUTH)
        assert free.status_code == 200


async def test_cli_sets_limits_and_budgets_that_apply_at_once(
    make_client: AppFactory,
    stack: Stack,
    redis_prefix: str,
    fake_llm: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", stack.database_url)
    monkeypatch.setenv("REDIS_URL", stack.redis_url or "")
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    runner = CliRunner()

    async def invoke(*args: str) -> str:
        result = await asyncio.to_thread(runner.invoke, cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    async with make_client(llm=fake_llm, llm_prices=PRICES) as client:
        key_id, headers = await new_key(client, "n8n")
        assert (await client.get("/v1/tasks", headers=headers)).status_code == 200  # cached key

        await invoke("keys", "set-limit", str(key_id), "1/minute")
        assert (await client.get("/v1/tasks", headers=headers)).status_code in (200, 429)
        assert (await client.get("/v1/tasks", headers=headers)).status_code == 429

        await invoke("keys", "set-limit", str(key_id), "off")
        await invoke("keys", "set-budget", str(key_id), "0")
        response = await client.post("/v1/tasks/summarize", json={"text": text(5)}, headers=headers)
        assert response.status_code == 402

        listing = await invoke("keys", "list")
        assert any("\tn8n\t" in line and "budget=0.0" in line for line in listing.splitlines())

        bad = await asyncio.to_thread(runner.invoke, cli, ["keys", "set-limit", str(key_id), "x"])
        assert bad.exit_code == 2
