"""LLM storms at 100 concurrent requests: 429s with Retry-After, 5xx bursts, slow answers and
dropped connections. Retries stay bounded, nobody gets an unhandled 500, nobody waits past what
the configured timeouts allow."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

CONCURRENCY = 100
SETTINGS = {
    "openai_timeout": 0.5,
    "openai_max_retries": 2,
    "openai_retry_delay_base": 0.05,
    "openai_retry_delay_max": 0.2,
    "openai_retry_jitter": 0.05,
    "openai_breaker_failures": 1000,  # this test is about retries; the breaker has its own
}
# Worst case per request: every attempt times out, plus the backoff between attempts.
WORST_CASE_S = 3 * 0.5 + 2 * 0.2
ALLOWED_ERRORS = {429, 502, 503, 504}


def storm(fake_llm: FakeLLM, seed: int) -> None:
    rng = random.Random(seed)
    faults: list[dict[str, Any]] = (
        [{"status": 429, "retry_after": "1"}] * 60
        + [{"status": 500}] * 50
        + [{"status": 503}] * 30
        + [{"status": 200, "delay": 1.0}] * 40  # slower than OPENAI_TIMEOUT
        + [{"drop": True}] * 40
    )
    rng.shuffle(faults)
    for fault in faults:
        fake_llm.fail(**fault)


async def fire(client: httpx.AsyncClient, task: str) -> list[tuple[httpx.Response, float]]:
    async def one(i: int) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await client.post(
            f"/v1/tasks/{task}",
            json={"text": f"Petición {i}: el sistema de pagos falló dos veces hoy."},
            headers=AUTH,
            timeout=30,
        )
        return response, time.monotonic() - started

    return await asyncio.gather(*(one(i) for i in range(CONCURRENCY)))


def check(results: list[tuple[httpx.Response, float]], fake_llm: FakeLLM) -> None:
    for response, elapsed in results:
        assert response.status_code == 200 or response.status_code in ALLOWED_ERRORS, response.text
        if response.status_code != 200:
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}
            assert error["code"] != "internal_error"
        if response.status_code in (429, 503):
            assert int(response.headers["retry-after"]) >= 1
        # Bounded by the configuration (plus generous room for a loaded CI machine).
        assert elapsed < WORST_CASE_S + 8
    assert fake_llm.calls <= CONCURRENCY * (SETTINGS["openai_max_retries"] + 1)


async def test_storm_with_offline_fallback_answers_everyone(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    storm(fake_llm, seed=1)
    async with make_client(llm=fake_llm, **SETTINGS) as client:
        results = await fire(client, "summarize")
    check(results, fake_llm)
    # summarize has an offline engine: every request gets an answer, some of them degraded.
    assert {r.status_code for r, _ in results} == {200}
    assert any(r.json()["degraded"] for r, _ in results)


async def test_storm_without_fallback_gives_clear_retryable_errors(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    storm(fake_llm, seed=2)
    async with make_client(llm=fake_llm, offline_fallback=False, **SETTINGS) as client:
        results = await fire(client, "summarize")
    check(results, fake_llm)
    codes = {r.status_code for r, _ in results}
    assert codes & ALLOWED_ERRORS  # the storm is reported, not hidden
    assert 500 not in codes
