"""Redis dies under load: every request still answers, /ready says so, and the service reconnects
by itself when Redis is back (cache, limits, coalescing, breaker and idempotency fall back to
in-process state meanwhile)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.chaos.conftest import ThrowawayRedis
from tests.conftest import AUTH, AppFactory
from tests.support.fake_llm import FakeLLM

REDIS_ONLY = pytest.mark.parametrize("stack", ["postgres+redis"], indirect=True)
# A hang would hit this; every request must answer well before it.
CLIENT_TIMEOUT_S = 20.0


async def _burst(
    client: httpx.AsyncClient, total: int, concurrency: int, kill_after: int, kill: object
) -> list[httpx.Response]:
    done: list[httpx.Response] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    killed = asyncio.Event()

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            response = await client.post(
                "/v1/tasks/summarize",
                json={"text": f"Informe {i}. Las ventas suben. El equipo crece.", "chat_id": i},
                headers={**AUTH, "Idempotency-Key": f"burst-{i}"},
                timeout=CLIENT_TIMEOUT_S,
            )
            done.append(response)
            if len(done) >= kill_after and not killed.is_set():
                killed.set()
                await asyncio.to_thread(kill)  # type: ignore[arg-type]

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


@REDIS_ONLY
async def test_redis_killed_mid_burst_then_back(
    make_client: AppFactory, fake_llm: FakeLLM, throwaway_redis: ThrowawayRedis
) -> None:
    fake_llm.latency = 0.02
    async with make_client(
        llm=fake_llm, redis_url=throwaway_redis.url, rate_limit="10000/minute"
    ) as client:
        warm = await client.post("/v1/tasks/summarize", json={"text": "Hola. Adiós."}, headers=AUTH)
        assert warm.status_code == 200

        responses = await _burst(client, 80, 8, kill_after=20, kill=throwaway_redis.kill)
        assert len(responses) == 80
        assert {r.status_code for r in responses} == {200}, [r.text for r in responses][:3]

        # Degradation is visible, not hidden.
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["checks"]["cache"]["ok"] is False

        # Still answering while Redis is away, including idempotent replays (per process).
        again = await client.post(
            "/v1/tasks/summarize",
            json={"text": "Informe 79. Las ventas suben. El equipo crece.", "chat_id": 79},
            headers={**AUTH, "Idempotency-Key": "burst-79"},
        )
        assert again.status_code == 200

        throwaway_redis.start()  # same port: the clients must reconnect on their own
        for _ in range(100):
            if (await client.get("/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await client.get("/ready")).status_code == 200

        body = {"text": "Después del corte. Todo vuelve a funcionar."}
        first = await client.post("/v1/tasks/summarize", json=body, headers=AUTH)
        second = await client.post("/v1/tasks/summarize", json=body, headers=AUTH)
        assert first.status_code == second.status_code == 200
        assert second.json()["cached"] is True  # the Redis cache works again
