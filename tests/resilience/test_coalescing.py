"""Identical in-flight requests share one upstream call, in one process and across replicas."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import AUTH, AppFactory
from tests.resilience.conftest import REDIS_ONLY, history_rows, two_instances
from tests.support.fake_llm import FakeLLM

BODY = {"text": "Los coches eléctricos ganan cuota de mercado. Las ventas suben un 20 %."}


async def burst(
    clients: list[httpx.AsyncClient], n: int, headers: dict[str, str] | None = None
) -> list[httpx.Response]:
    return await asyncio.gather(
        *(
            clients[i % len(clients)].post(
                "/v1/tasks/summarize", json=BODY, headers=headers or AUTH
            )
            for i in range(n)
        )
    )


async def test_100_identical_requests_make_one_upstream_call(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 0.3  # long enough for all 100 to arrive while the first is in flight
    async with make_client(llm=fake_llm) as client:
        responses = await burst([client], 100)
        assert [r.status_code for r in responses] == [200] * 100
        assert fake_llm.calls == 1
        payloads = [r.json() for r in responses]
        assert len({p["output"] for p in payloads}) == 1
        assert len({p["id"] for p in payloads}) == 100  # each request is its own record
        # Latecomers that arrive after the leader finished read the cache instead.
        assert sum(p["coalesced"] or p["cached"] for p in payloads) == 99
        assert sum(p["coalesced"] for p in payloads) > 0
        assert sum(p["usage"] is not None for p in payloads) == 1  # only the leader paid

        assert len(await history_rows(client, 100)) == 100
        usage = (await client.get("/v1/usage", headers=AUTH)).json()
        assert usage["requests"] == 100
        assert usage["coalesced"] + usage["cached"] == 99
        assert usage["upstream_calls"] == 1


@REDIS_ONLY
async def test_identical_requests_on_two_replicas_make_one_upstream_call(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 0.4
    async with two_instances(make_client, llm=fake_llm) as (first, second):
        responses = await burst([first, second], 100)
        assert [r.status_code for r in responses] == [200] * 100
        assert fake_llm.calls == 1
        assert sum(r.json()["coalesced"] or r.json()["cached"] for r in responses) == 99


async def test_waiters_get_the_leaders_error(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    fake_llm.fail(times=1, status=500, delay=1.0)
    async with make_client(llm=fake_llm, openai_max_retries=0, offline_fallback=False) as client:
        responses = await burst([client], 20)
        assert {r.status_code for r in responses} == {502}
        assert {r.json()["error"]["code"] for r in responses} == {"llm_error"}
        assert fake_llm.calls == 1
        # The failure is not remembered: the next request tries again and succeeds.
        again = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
        assert again.status_code == 200 and fake_llm.calls == 2


@REDIS_ONLY
async def test_remote_waiters_get_the_leaders_error(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=1, status=500, delay=1.0)
    settings = {"llm": fake_llm, "openai_max_retries": 0, "offline_fallback": False}
    async with two_instances(make_client, **settings) as (first, second):
        responses = await burst([first, second], 10)
        assert {r.status_code for r in responses} == {502}
        assert fake_llm.calls == 1


async def test_waiters_give_up_after_the_coalesce_timeout(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 1.5
    async with make_client(llm=fake_llm, coalesce_timeout=0.3) as client:
        responses = await burst([client], 5)
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 504, 504, 504, 504]
        timeouts = [r.json()["error"]["code"] for r in responses if r.status_code == 504]
        assert set(timeouts) == {"coalesce_timeout"}
        assert fake_llm.calls == 1


async def test_no_cache_requests_are_not_coalesced(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 0.2
    async with make_client(llm=fake_llm) as client:
        responses = await burst([client], 3, {**AUTH, "Cache-Control": "no-cache"})
        assert [r.status_code for r in responses] == [200] * 3
        assert fake_llm.calls == 3
