"""`/v1/jobs` end to end in one process: the real app, a real arq worker, PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from prometheus_client import REGISTRY

from backend.auth.service import create_key
from backend.core.resources import Resources
from tests.conftest import AUTH, AppFactory, Stack, app_of
from tests.jobs.conftest import JOB_SETTINGS, drain
from tests.support.fake_llm import FakeLLM

TEXT = "El ayuntamiento aprobó ayer el nuevo plan de movilidad urbana. Reduce el tráfico."


def resources_of(client: httpx.AsyncClient) -> Resources:
    resources: Resources = app_of(client).state.resources
    return resources


async def other_key(client: httpx.AsyncClient) -> dict[str, str]:
    async with resources_of(client).sessionmaker() as session, session.begin():
        _, raw = await create_key(session, "someone-else")
    return {"x-api-key": raw}


async def db_rows(stack: Stack, sql: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(stack.database_url.replace("+asyncpg", ""))
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def submit(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post(
        "/v1/jobs", json={"task": "summarize", "text": TEXT, **body}, headers=AUTH
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return str(response.json()["job_id"])


async def test_job_runs_through_the_task_runner(
    make_client: AppFactory, fake_llm: FakeLLM, stack: Stack
) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client, chat_id=7, options={"max_sentences": 1})
        queued = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()
        assert queued["status"] == "queued" and queued["result"] is None and queued["runs"] == 0
        assert REGISTRY.get_sample_value("assistant_jobs_queue_depth") == 1

        await drain(client)

        done = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()
        assert done["status"] == "succeeded", done
        assert done["runs"] == 1 and done["error"] is None and done["callback"] is None
        result = done["result"]
        # The same body as the synchronous endpoint, from the same service code.
        assert result["task"] == "summarize" and result["model"] == "fake-model"
        assert result["result"]["summary"].startswith("LLM summary: El ayuntamiento")
        assert "at most 1 sentences" in fake_llm.requests[0]["messages"][0]["content"]
        assert fake_llm.calls == 1
        assert REGISTRY.get_sample_value("assistant_jobs_queue_depth") == 0

        # The cache is shared with the synchronous path.
        sync = await client.post(
            "/v1/tasks/summarize",
            json={"text": TEXT, "options": {"max_sentences": 1}},
            headers=AUTH,
        )
        assert sync.json()["cached"] is True and fake_llm.calls == 1

    history = await db_rows(stack, "SELECT id, chat_id, task FROM history ORDER BY created_at")
    assert str(history[0]["id"]) == result["id"] and history[0]["chat_id"] == 7


async def test_only_the_creating_key_sees_a_job(make_client: AppFactory, fake_llm: FakeLLM) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client)
        other = await other_key(client)
        missing = await client.get(f"/v1/jobs/{job_id}", headers=other)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
        assert (await client.get("/v1/jobs", headers=other)).json() == {"jobs": []}
        retry = await client.post(f"/v1/jobs/{job_id}/retry", headers=other)
        assert retry.status_code == 404
        mine = (await client.get("/v1/jobs", headers=AUTH)).json()["jobs"]
        assert [j["job_id"] for j in mine] == [job_id]
        unknown = await client.get(f"/v1/jobs/{uuid.uuid4()}", headers=AUTH)
        assert unknown.status_code == 404
        assert (await client.get(f"/v1/jobs/{job_id}")).status_code == 401


async def test_submit_validates_like_the_sync_path(make_client: AppFactory) -> None:
    async with make_client(
        max_text_chars=100, jobs_callback_hosts="hooks.example", **JOB_SETTINGS
    ) as client:
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"task": "nope", "text": TEXT}, 404, "unknown_task"),
            ({"task": "summarize", "text": TEXT, "options": {"bogus": 1}}, 422, "validation_error"),
            ({"task": "summarize", "text": "   "}, 422, "validation_error"),
            ({"task": "summarize", "text": "x" * 101}, 413, "text_too_long"),
            ({"task": "summarize", "text": TEXT, "extra": 1}, 422, "validation_error"),
            (
                {"task": "summarize", "text": TEXT, "callback_url": "ftp://x"},
                422,
                "invalid_callback_url",
            ),
            (
                {"task": "summarize", "text": TEXT, "callback_url": "http://elsewhere.example/h"},
                422,
                "invalid_callback_url",
            ),
        ]
        for body, status, code in cases:
            response = await client.post("/v1/jobs", json=body, headers=AUTH)
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"]["code"] == code, body
        ok = {"task": "resumir", "text": TEXT, "callback_url": "https://hooks.example/h"}
        assert (await client.post("/v1/jobs", json=ok, headers=AUTH)).status_code == 202
        # Nothing half-made was stored by the refused requests.
        assert len((await client.get("/v1/jobs", headers=AUTH)).json()["jobs"]) == 1


async def test_without_redis_jobs_are_unavailable(make_client: AppFactory) -> None:
    async with make_client(redis_url=None, **JOB_SETTINGS) as client:
        response = await client.post(
            "/v1/jobs", json={"task": "summarize", "text": TEXT}, headers=AUTH
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "jobs_unavailable"
        assert "REDIS_URL" in response.json()["error"]["message"]


async def test_failed_jobs_are_dead_letters_and_can_be_retried(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    settings = {**JOB_SETTINGS, "openai_max_retries": 0, "offline_fallback": False}
    async with make_client(llm=fake_llm, **settings) as client:
        ok_id = await submit(
            client, task="translate", text="Hola mundo", options={"target_language": "en"}
        )
        await drain(client)
        fake_llm.fail(times=5, status=500)
        bad_id = await submit(
            client, task="translate", text="Buenos días", options={"target_language": "en"}
        )
        await drain(client)

        failed = (await client.get(f"/v1/jobs/{bad_id}", headers=AUTH)).json()
        assert failed["status"] == "failed" and failed["result"] is None
        assert failed["error"]["code"].startswith("llm_"), failed["error"]
        assert failed["error"]["message"]
        dead = (await client.get("/v1/jobs?status=failed", headers=AUTH)).json()["jobs"]
        assert [j["job_id"] for j in dead] == [bad_id]

        not_failed = await client.post(f"/v1/jobs/{ok_id}/retry", headers=AUTH)
        assert not_failed.status_code == 409
        assert not_failed.json()["error"]["code"] == "job_not_failed"

        fake_llm.reset()
        retried = await client.post(f"/v1/jobs/{bad_id}/retry", headers=AUTH)
        assert retried.status_code == 202 and retried.json()["status"] == "queued"
        await drain(client)
        done = (await client.get(f"/v1/jobs/{bad_id}", headers=AUTH)).json()
        assert done["status"] == "succeeded" and done["error"] is None
        assert done["result"]["output"] == "[en] Buenos días"
        assert (await client.get("/v1/jobs?status=failed", headers=AUTH)).json()["jobs"] == []


async def test_idempotent_submit_returns_the_same_job(make_client: AppFactory) -> None:
    async with make_client(**{**JOB_SETTINGS, "rate_limit": "1000/minute"}) as client:
        headers = {**AUTH, "Idempotency-Key": "n8n-exec-991"}
        body = {"task": "summarize", "text": TEXT}
        first = await client.post("/v1/jobs", json=body, headers=headers)
        again = await client.post("/v1/jobs", json=body, headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == f"/v1/jobs/{first.json()['job_id']}"
        # Like every authenticated route, the answer says where the key stands on its limit.
        assert "ratelimit-remaining" in first.headers and "ratelimit-remaining" in again.headers
        assert len((await client.get("/v1/jobs", headers=AUTH)).json()["jobs"]) == 1
        other = await client.post("/v1/jobs", json={**body, "text": "Otro texto."}, headers=headers)
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "idempotency_conflict"
