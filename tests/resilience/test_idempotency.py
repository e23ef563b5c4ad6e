"""Idempotency-Key on the canonical task endpoints and on /api/v1/procesar."""

from __future__ import annotations

import asyncio

from tests.conftest import AUTH, AppFactory
from tests.resilience.conftest import REDIS_ONLY, history_rows, two_instances
from tests.support.fake_llm import FakeLLM
from tests.support.keys import new_key

BODY = {"text": "La reunión del lunes se mueve al martes a las diez.", "chat_id": 42}


def idem(key: str, headers: dict[str, str] = AUTH) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_repeat_with_the_same_key_replays_the_stored_response(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm) as client:
        first = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("update-1"))
        # no-cache would force a new call; the replay must not even look at the cache.
        again = await client.post(
            "/v1/tasks/summarize",
            json=BODY,
            headers={**idem("update-1"), "Cache-Control": "no-cache"},
        )
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()  # same id, same everything
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert fake_llm.calls == 1
        assert len(await history_rows(client, 1)) == 1


async def test_generic_route_and_alias_share_the_key_scope(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm) as client:
        first = await client.post("/v1/tasks/resumir", json=BODY, headers=idem("alias"))
        again = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("alias"))
        assert again.json()["id"] == first.json()["id"]
        assert fake_llm.calls == 1


async def test_same_key_with_a_different_body_is_a_conflict(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm) as client:
        await client.post("/v1/tasks/summarize", json=BODY, headers=idem("k-2"))
        other = {**BODY, "text": "Otro texto distinto."}
        conflict = await client.post("/v1/tasks/summarize", json=other, headers=idem("k-2"))
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "idempotency_conflict"
        other_task = await client.post("/v1/tasks/classify", json=BODY, headers=idem("k-2"))
        assert other_task.status_code == 409
        assert fake_llm.calls == 1


async def test_keys_are_scoped_per_api_key(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm) as client:
        _, other = await new_key(client)
        mine = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("shared"))
        theirs = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("shared", other))
        assert theirs.status_code == 200
        assert theirs.json()["id"] != mine.json()["id"]  # never another caller's response


async def test_a_failed_attempt_can_be_retried_with_the_same_key(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(times=1, status=500)
    async with make_client(llm=fake_llm, openai_max_retries=0, offline_fallback=False) as client:
        failed = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("retry"))
        assert failed.status_code == 502
        retried = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("retry"))
        assert retried.status_code == 200
        replayed = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("retry"))
        assert replayed.json()["id"] == retried.json()["id"]
        assert fake_llm.calls == 2


async def test_concurrent_duplicates_wait_for_the_first(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.latency = 0.5
    async with make_client(llm=fake_llm) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/v1/tasks/summarize",
                    json=BODY,
                    headers={**idem("telegram-update-7"), "Cache-Control": "no-cache"},
                )
                for _ in range(5)
            )
        )
        assert {r.status_code for r in responses} == {200}
        assert len({r.json()["id"] for r in responses}) == 1
        assert fake_llm.calls == 1
        assert len(await history_rows(client, 1)) == 1


async def test_invalid_idempotency_key_is_a_400(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.post("/v1/tasks/summarize", json=BODY, headers=idem("x" * 300))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


async def test_procesar_honours_idempotency_key(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    body = {
        "chat_id": 7,
        "texto": "Hoy hemos cerrado el trimestre con beneficios.",
        "tipo_tarea": "resumir",
    }
    async with make_client(llm=fake_llm) as client:
        first = await client.post("/api/v1/procesar", json=body, headers=idem("n8n-exec-1"))
        again = await client.post("/api/v1/procesar", json=body, headers=idem("n8n-exec-1"))
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert fake_llm.calls == 1
        assert len(await history_rows(client, 1)) == 1
        changed = await client.post(
            "/api/v1/procesar", json={**body, "texto": "otro"}, headers=idem("n8n-exec-1")
        )
        assert changed.status_code == 409


@REDIS_ONLY
async def test_retry_on_another_replica_replays(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with two_instances(make_client, llm=fake_llm) as (first, second):
        original = await first.post("/v1/tasks/summarize", json=BODY, headers=idem("replica"))
        replay = await second.post("/v1/tasks/summarize", json=BODY, headers=idem("replica"))
        assert replay.json()["id"] == original.json()["id"]
        assert replay.headers["idempotent-replayed"] == "true"
        assert fake_llm.calls == 1
