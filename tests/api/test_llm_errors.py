"""Retries and error mapping through the real `openai` client against the fake server."""

from __future__ import annotations

import pytest

from tests.conftest import AUTH, AppFactory, Stack
from tests.support.fake_llm import FakeLLM

BODY = {"text": "Hello there. This is a test of the retry policy."}


@pytest.fixture
def stack(pg_stack: Stack) -> Stack:
    """The gateway does not depend on the storage: one stack is enough here."""
    return pg_stack


async def test_always_failing_upstream_sees_exactly_max_retries_plus_one(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=10, status=500)
    async with make_client(llm=fake_llm, openai_max_retries=2, offline_fallback=False) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "llm_error"
    assert error["details"]["attempts"] == 3
    assert fake_llm.calls == 3


async def test_transient_failures_are_retried_until_success(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=2, status=503)
    async with make_client(llm=fake_llm, openai_max_retries=3, offline_fallback=False) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 200, response.text
    assert fake_llm.calls == 3


async def test_client_errors_are_not_retried(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    fake_llm.fail(times=5, status=400)
    async with make_client(llm=fake_llm, openai_max_retries=3, offline_fallback=False) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 502
    assert response.json()["error"]["details"]["upstream_status"] == 400
    assert fake_llm.calls == 1


async def test_rate_limit_honours_retry_after_and_maps_to_429(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=5, status=429, retry_after="7")
    async with make_client(
        llm=fake_llm, openai_max_retries=1, openai_retry_delay_max=0.05, offline_fallback=False
    ) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "llm_rate_limited"
    assert response.headers["retry-after"] == "7"
    assert fake_llm.calls == 2


async def test_slow_upstream_times_out_with_504(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    fake_llm.latency = 1.0
    async with make_client(
        llm=fake_llm, openai_timeout=0.2, openai_max_retries=1, offline_fallback=False
    ) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "llm_timeout"
    assert fake_llm.calls == 2


async def test_unreachable_upstream_is_a_502(make_client: AppFactory) -> None:
    async with make_client(
        openai_base_url="http://127.0.0.1:9/v1", openai_max_retries=1, offline_fallback=False
    ) as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "llm_error"
    assert response.json()["error"]["details"]["attempts"] == 2
