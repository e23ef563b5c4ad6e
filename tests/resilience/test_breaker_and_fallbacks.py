"""Circuit breaker, LLM_FALLBACKS and degraded offline answers, through the fake OpenAI server."""

from __future__ import annotations

import asyncio
import json

import pytest

from backend.core.config import Settings
from tests.conftest import AUTH, AppFactory
from tests.resilience.conftest import REDIS_ONLY, history_rows, two_instances
from tests.support.fake_llm import FakeLLM

TEXT = "El equipo terminó la migración. Todo funciona. Mañana revisamos los costes."
# One attempt per call, no degraded answers: each request is exactly one upstream call.
STRICT = {"openai_max_retries": 0, "offline_fallback": False}


def body(n: int = 0) -> dict[str, str]:
    return {"text": f"{TEXT} Caso {n}."}


async def test_breaker_opens_after_failures_and_skips_the_upstream(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    async with make_client(llm=fake_llm, openai_breaker_failures=3, **STRICT) as client:
        for n in range(3):
            failed = await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
            assert failed.status_code == 502
        assert fake_llm.calls == 3

        for n in range(3, 8):
            skipped = await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
            assert skipped.status_code == 503
            assert skipped.json()["error"]["code"] == "llm_circuit_open"
            assert int(skipped.headers["retry-after"]) >= 1
        assert fake_llm.calls == 3  # open: no network attempt at all

        ready = (await client.get("/ready")).json()
        assert "open" in json.dumps(ready)


async def test_half_open_probe_closes_the_breaker(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=2, status=503)
    settings = {"openai_breaker_failures": 2, "openai_breaker_cooldown": 1.0, **STRICT}
    async with make_client(llm=fake_llm, **settings) as client:
        for n in range(2):
            assert (await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)).is_error
        assert (
            await client.post("/v1/tasks/summarize", json=body(9), headers=AUTH)
        ).status_code == 503
        assert fake_llm.calls == 2

        await asyncio.sleep(1.3)  # the cooldown passes; the upstream has recovered
        probe = await client.post("/v1/tasks/summarize", json=body(10), headers=AUTH)
        assert probe.status_code == 200
        after = await client.post("/v1/tasks/summarize", json=body(11), headers=AUTH)
        assert after.status_code == 200
        assert fake_llm.calls == 4


async def test_failed_probe_reopens_the_breaker(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    fake_llm.fail(times=3, status=500)
    settings = {"openai_breaker_failures": 2, "openai_breaker_cooldown": 1.0, **STRICT}
    async with make_client(llm=fake_llm, **settings) as client:
        for n in range(2):
            await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
        await asyncio.sleep(1.3)
        probe = await client.post("/v1/tasks/summarize", json=body(2), headers=AUTH)
        assert probe.status_code == 502  # the probe reached the upstream and failed
        assert fake_llm.calls == 3
        again = await client.post("/v1/tasks/summarize", json=body(3), headers=AUTH)
        assert again.status_code == 503  # open again at once, no new attempt
        assert fake_llm.calls == 3


async def test_client_errors_do_not_open_the_breaker(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=4, status=400)
    async with make_client(llm=fake_llm, openai_breaker_failures=2, **STRICT) as client:
        for n in range(4):
            response = await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
            assert response.status_code == 502
        assert fake_llm.calls == 4


@REDIS_ONLY
async def test_breaker_state_is_shared_by_replicas(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    async with two_instances(make_client, llm=fake_llm, openai_breaker_failures=2, **STRICT) as (
        first,
        second,
    ):
        for n in range(2):
            await first.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
        assert fake_llm.calls == 2
        response = await second.post("/v1/tasks/summarize", json=body(5), headers=AUTH)
        assert response.status_code == 503
        assert fake_llm.calls == 2  # the other replica knew the endpoint is open


async def test_fallback_endpoint_answers_when_the_primary_fails(
    make_client: AppFactory, fake_llm: FakeLLM, fallback_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    fallbacks = [{"base_url": fallback_llm.base_url, "api_key": "sk-2", "model": "small"}]
    async with make_client(llm=fake_llm, llm_fallbacks=fallbacks, **STRICT) as client:
        response = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["model"] == "fallback-model"
        assert response.json()["degraded"] is False
        assert fake_llm.calls == 1 and fallback_llm.calls == 1
        assert fallback_llm.requests[0]["model"] == "small"


async def test_open_primary_goes_straight_to_the_fallback(
    make_client: AppFactory, fake_llm: FakeLLM, fallback_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    fallbacks = [{"base_url": fallback_llm.base_url, "model": "small"}]
    async with make_client(
        llm=fake_llm, llm_fallbacks=fallbacks, openai_breaker_failures=1, **STRICT
    ) as client:
        for n in range(4):
            response = await client.post("/v1/tasks/summarize", json=body(n), headers=AUTH)
            assert response.status_code == 200
        assert fake_llm.calls == 1  # opened after the first failure, then skipped
        assert fallback_llm.calls == 4


async def test_degraded_offline_answer_when_every_endpoint_fails(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    async with make_client(llm=fake_llm, openai_max_retries=0, degraded_cache_ttl=0) as client:
        first = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert first.status_code == 200, first.text
        data = first.json()
        assert data["degraded"] is True and data["model"] == "offline"
        assert data["result"]["summary"]
        # Not cached as a normal answer: the next request asks the LLM again.
        second = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert second.json()["cached"] is False and second.json()["degraded"] is True
        assert fake_llm.calls == 2

        rows = await history_rows(client, 2)
        assert [row["degraded"] for row in rows] == [True, True]


async def test_degraded_answer_is_cached_only_briefly(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=1, status=500)
    async with make_client(llm=fake_llm, openai_max_retries=0, degraded_cache_ttl=1) as client:
        first = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert first.json()["degraded"] is True
        repeat = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert repeat.json()["cached"] is True and repeat.json()["degraded"] is True
        await asyncio.sleep(1.3)  # the short TTL passes; the LLM is back
        fresh = await client.post("/v1/tasks/summarize", json=body(), headers=AUTH)
        assert fresh.json()["degraded"] is False and fresh.json()["model"] == "fake-model"


async def test_task_without_offline_engine_reports_the_llm_error(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=100, status=500)
    async with make_client(llm=fake_llm, openai_max_retries=0) as client:
        response = await client.post(
            "/v1/tasks/generate", json={"text": "Escribe un saludo"}, headers=AUTH
        )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "llm_error"


def test_fallbacks_are_validated_at_startup() -> None:
    with pytest.raises(ValueError, match="llm_fallbacks"):
        Settings(_env_file=None, llm_fallbacks="not json")
    parsed = Settings(
        _env_file=None,
        openai_api_key="sk",
        llm_fallbacks=[{"base_url": "http://127.0.0.1:11434/v1", "model": "llama3.2"}],
    )
    assert [e.name for e in parsed.llm_endpoints] == [
        "openai/gpt-4o-mini",
        "127.0.0.1:11434/llama3.2",
    ]
