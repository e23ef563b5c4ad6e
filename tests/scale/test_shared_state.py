"""Shared state across replicas: two API processes on one Redis behave like one service.

A per-key rate limit holds across both; identical concurrent requests to both make one upstream
call; an idempotent retry sent to the other replica replays the same answer; a circuit breaker
opened through one replica is open on the other.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import AUTH
from tests.scale.conftest import ClusterFactory
from tests.support.fake_llm import FakeLLM

TEXT = "The council approved the new mobility plan yesterday. Traffic in the centre will drop."


async def test_rate_limit_holds_across_replicas(cluster: ClusterFactory) -> None:
    (one, two), _ = cluster(RATE_LIMIT="4/minute").start(apis=2, workers=0)
    statuses: list[int] = []
    codes: list[str] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(8):
            target = (one, two)[i % 2]
            response = await client.get(f"{target.url}/v1/tasks", headers=AUTH)
            statuses.append(response.status_code)
            if response.status_code == 429:
                codes.append(response.json()["error"]["code"])
    # Four allowed in the minute, whichever replica answered.
    assert statuses.count(200) == 4, statuses
    assert statuses.count(429) == 4, statuses
    assert set(codes) == {"rate_limited"}


async def test_identical_concurrent_requests_make_one_upstream_call(
    cluster: ClusterFactory, fake_llm: FakeLLM
) -> None:
    (one, two), _ = cluster().start(apis=2, workers=0)
    fake_llm.latency = 2.0  # long enough for every request to arrive while the first is upstream
    body = {"text": TEXT}
    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(f"{(one, two)[i % 2].url}/v1/tasks/summarize", json=body, headers=AUTH)
                for i in range(6)
            )
        )
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert len({r.json()["result"]["summary"] for r in responses}) == 1
    assert fake_llm.calls == 1


async def test_idempotent_retry_on_the_other_replica_replays(
    cluster: ClusterFactory, fake_llm: FakeLLM
) -> None:
    (one, two), _ = cluster().start(apis=2, workers=0)
    headers = {**AUTH, "Idempotency-Key": "n8n-execution-4711", "Cache-Control": "no-cache"}
    body = {"text": TEXT}
    async with httpx.AsyncClient(timeout=60) as client:
        first = await client.post(f"{one.url}/v1/tasks/summarize", json=body, headers=headers)
        retry = await client.post(f"{two.url}/v1/tasks/summarize", json=body, headers=headers)
    assert first.status_code == 200 and retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json() == first.json()
    assert fake_llm.calls == 1


async def test_breaker_opened_on_one_replica_is_open_on_the_other(
    cluster: ClusterFactory, fake_llm: FakeLLM
) -> None:
    (one, two), _ = cluster(
        OPENAI_BREAKER_FAILURES=2,
        OPENAI_BREAKER_COOLDOWN=300,
        OPENAI_MAX_RETRIES=0,
        OFFLINE_FALLBACK="false",
    ).start(apis=2, workers=0)
    fake_llm.fail(times=20, status=500)
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(2):
            failed = await client.post(
                f"{one.url}/v1/tasks/translate",
                json={"text": f"Hola número {i}", "options": {"target_language": "en"}},
                headers=AUTH,
            )
            assert failed.status_code >= 500, failed.text
        calls = fake_llm.calls
        assert calls == 2
        skipped = await client.post(
            f"{two.url}/v1/tasks/translate",
            json={"text": "Hola otra vez", "options": {"target_language": "en"}},
            headers=AUTH,
        )
    # The other replica refuses at once: the upstream never sees the call.
    assert skipped.status_code >= 500, skipped.text
    assert fake_llm.calls == calls
