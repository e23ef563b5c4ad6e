"""Callbacks: signed with the key's secret, retried with backoff, each attempt on the job."""

from __future__ import annotations

import json

import httpx

from backend.jobs.callbacks import SIGNATURE_HEADER, verify
from tests.conftest import AUTH, AppFactory
from tests.jobs.conftest import JOB_SETTINGS, Receiver, drain
from tests.support.fake_llm import FakeLLM

TEXT = "The council approved the new mobility plan yesterday. Traffic will drop."


async def submit(client: httpx.AsyncClient, callback_url: str) -> str:
    body = {"task": "summarize", "text": TEXT, "callback_url": callback_url}
    response = await client.post("/v1/jobs", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def test_callback_is_signed_and_retried_until_delivered(
    make_client: AppFactory, fake_llm: FakeLLM, receiver: Receiver
) -> None:
    receiver.statuses.extend([503, 500])  # two failures, then the default 200
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client, receiver.url)
        await drain(client)

        job = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()
        assert job["status"] == "succeeded"
        callback = job["callback"]
        assert callback["url"] == receiver.url and callback["status"] == "delivered"
        assert [a["status_code"] for a in callback["attempts"]] == [503, 500, 200]
        assert [a["attempt"] for a in callback["attempts"]] == [1, 2, 3]
        assert [a["error"] for a in callback["attempts"]] == ["HTTP 503", "HTTP 500", None]

        secret = (await client.get("/v1/jobs/callback-secret", headers=AUTH)).json()
        assert secret["header"] == SIGNATURE_HEADER and len(secret["secret"]) == 64

    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert verify(secret["secret"], body, headers[SIGNATURE_HEADER.lower()])
    assert not verify("another-secret", body, headers[SIGNATURE_HEADER.lower()])
    assert headers["x-assistant-job-id"] == job_id
    payload = json.loads(body)
    assert payload["job_id"] == job_id and payload["status"] == "succeeded"
    assert payload["result"]["result"]["summary"].startswith("LLM summary: The council")
    assert "callback" not in payload
    # Every attempt carries the same signed body.
    assert {b for _, b in receiver.received} == {body}


async def test_callback_answered_409_is_retried(
    make_client: AppFactory, fake_llm: FakeLLM, receiver: Receiver
) -> None:
    # n8n answers 409 while the execution has not reached its Wait node yet.
    receiver.statuses.append(409)
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client, receiver.url)
        await drain(client)
        callback = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()["callback"]
    assert callback["status"] == "delivered"
    assert [a["status_code"] for a in callback["attempts"]] == [409, 200]


async def test_callback_refused_with_4xx_is_not_retried(
    make_client: AppFactory, fake_llm: FakeLLM, receiver: Receiver
) -> None:
    receiver.statuses.append(404)
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        job_id = await submit(client, receiver.url)
        await drain(client)
        callback = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()["callback"]
    assert callback["status"] == "failed"
    assert [a["status_code"] for a in callback["attempts"]] == [404]
    assert len(receiver.received) == 1


async def test_unreachable_callback_uses_every_attempt(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, **JOB_SETTINGS) as client:
        # Port 9 (discard) on loopback: nothing listens, the connection is refused.
        job_id = await submit(client, "http://127.0.0.1:9/hook")
        await drain(client)
        job = (await client.get(f"/v1/jobs/{job_id}", headers=AUTH)).json()
    assert job["status"] == "succeeded"  # the task did its work; only the delivery failed
    attempts = job["callback"]["attempts"]
    assert job["callback"]["status"] == "failed"
    assert len(attempts) == JOB_SETTINGS["jobs_callback_attempts"]
    assert {a["status_code"] for a in attempts} == {None}
    assert {a["error"] for a in attempts} == {"ConnectError"}


async def test_failed_job_is_called_back_too_and_secret_rotates(
    make_client: AppFactory, fake_llm: FakeLLM, receiver: Receiver
) -> None:
    settings = {**JOB_SETTINGS, "openai_max_retries": 0, "offline_fallback": False}
    async with make_client(llm=fake_llm, **settings) as client:
        old = (await client.get("/v1/jobs/callback-secret", headers=AUTH)).json()["secret"]
        rotated = await client.post("/v1/jobs/callback-secret/rotate", headers=AUTH)
        new = rotated.json()["secret"]
        assert new != old
        assert (await client.get("/v1/jobs/callback-secret", headers=AUTH)).json()["secret"] == new

        fake_llm.fail(times=3, status=500)
        body = {
            "task": "translate",
            "text": "Hola",
            "options": {"target_language": "en"},
            "callback_url": receiver.url,
        }
        job_id = (await client.post("/v1/jobs", json=body, headers=AUTH)).json()["job_id"]
        await drain(client)

    headers, payload = receiver.received[0]
    assert verify(new, payload, headers[SIGNATURE_HEADER.lower()])
    data = json.loads(payload)
    assert data["job_id"] == job_id and data["status"] == "failed"
    assert data["error"]["code"].startswith("llm_") and data["result"] is None
