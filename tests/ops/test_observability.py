"""/metrics, X-Request-ID and the JSON access log, against the real app and lifespan."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.core.resources import Resources
from backend.observability import exposition
from backend.observability.metrics import JOBS_QUEUE_DEPTH
from tests.conftest import API_KEY, AUTH, AppFactory, Stack
from tests.support.fake_llm import FakeLLM

SECRET_TEXT = "Zebra-quokka-7731 is my unmistakable secret sentence. It must never reach the logs."
METRICS_TOKEN = "metrics-token-0123456789abcdef"


def json_lines(captured: str) -> list[dict[str, Any]]:
    lines = []
    for line in captured.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def samples(exposition: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    ]


async def test_metrics_use_route_templates_and_skip_probes(
    make_client: AppFactory, fake_llm: FakeLLM, stack: Stack
) -> None:
    async with make_client(llm=fake_llm) as client:
        ok = await client.post("/v1/tasks/summarize", json={"text": SECRET_TEXT}, headers=AUTH)
        assert ok.status_code == 200, ok.text
        record = ok.json()["id"]
        assert (await client.get(f"/v1/history/{record}", headers=AUTH)).status_code == 200
        await client.get("/health")
        await client.get("/ready")
        await client.get("/no/such/path/12345")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    requests = [
        (labels, value)
        for name, labels, value in samples(response.text)
        if name == "http_requests_total"
    ]
    handlers = {labels["handler"] for labels, _ in requests}
    assert "/v1/tasks/summarize" in handlers
    # The record's id is a path parameter: only the template is a label value.
    assert any(h.startswith("/v1/history/{") for h in handlers), handlers
    assert not any(str(record) in h for h in handlers)
    assert "/no/such/path/12345" not in handlers and "none" in handlers
    assert not {"/health", "/ready", "/metrics"} & handlers
    # Our own families are declared, and the dependency probes ran at this scrape.
    up = {
        (labels["dependency"], labels["backend"]): value
        for name, labels, value in samples(response.text)
        if name == "assistant_dependency_up"
    }
    # The alert rules select backend="postgresql" and backend="redis".
    if stack.redis_url:
        assert up[("database", "postgresql")] == 1.0 and up[("cache", "redis")] == 1.0
    else:
        assert up[("database", "sqlite")] == 1.0 and up[("cache", "memory")] == 1.0
    assert "# TYPE assistant_task_requests_total counter" in response.text


async def test_metrics_token_protects_the_endpoint(make_client: AppFactory) -> None:
    async with make_client(metrics_token=METRICS_TOKEN) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope-nope-nope"})
        api_key = await client.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        # The probes stay open for the orchestrator.
        health = await client.get("/health")

    for refused in (missing, wrong, api_key):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "assistant_" not in refused.text
    assert right.status_code == 200 and "http_requests_total" in right.text
    assert health.status_code == 200


async def test_scrape_hooks_refresh_gauges_and_cannot_break_the_scrape(
    make_client: AppFactory,
) -> None:
    async def queue_depth(resources: Resources) -> None:
        JOBS_QUEUE_DEPTH.set(17)

    async def broken(resources: Resources) -> None:
        raise ConnectionError("redis went away")

    exposition.on_scrape(broken)
    exposition.on_scrape(queue_depth)
    try:
        async with make_client() as client:
            response = await client.get("/metrics")
    finally:
        exposition._SCRAPE_HOOKS.remove(broken)
        exposition._SCRAPE_HOOKS.remove(queue_depth)
        JOBS_QUEUE_DEPTH.set(0)
    assert response.status_code == 200
    assert ("assistant_jobs_queue_depth", {}, 17.0) in samples(response.text)


async def test_metrics_can_be_turned_off(make_client: AppFactory) -> None:
    async with make_client(metrics_enabled=False) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/health")).status_code == 200


async def test_request_id_is_honoured_or_generated(make_client: AppFactory) -> None:
    async with make_client() as client:
        given = await client.get("/health", headers={"X-Request-ID": "n8n-exec-42.7:a_b"})
        fresh = await client.get("/health")
        other = await client.get("/health")
        forged = await client.get("/health", headers={"X-Request-ID": 'x" level=error fake'})
        too_long = await client.get("/health", headers={"X-Request-ID": "a" * 200})
        refused = await client.post("/v1/tasks/summarize", json={"text": "hi"})
        too_big = await client.post(
            "/v1/tasks/summarize",
            content=b"x" * 2_000_000,
            headers={**AUTH, "content-type": "application/json"},
        )

    assert given.headers["x-request-id"] == "n8n-exec-42.7:a_b"
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    assert fresh.headers["x-request-id"] != other.headers["x-request-id"]
    for insane in (forged, too_long):
        assert re.fullmatch(r"[0-9a-f]{32}", insane.headers["x-request-id"])
    # Errors carry it too, even those refused before routing (body limit).
    assert refused.status_code == 401 and refused.headers["x-request-id"]
    assert too_big.status_code == 413 and too_big.headers["x-request-id"]


async def test_access_log_is_json_with_ids_and_without_texts_or_keys(
    make_client: AppFactory, fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client(llm=fake_llm) as client:
        capsys.readouterr()  # start-up lines are not what this test is about
        body = {"text": SECRET_TEXT, "chat_id": 5}
        first = await client.post(
            "/v1/tasks/summarize", json=body, headers={**AUTH, "X-Request-ID": "req-first"}
        )
        second = await client.post(
            "/v1/tasks/summarize",
            json=body,
            headers={"Authorization": f"Bearer {API_KEY}", "X-Request-ID": "req-second"},
        )
        denied = await client.get("/v1/tasks", headers={"x-api-key": "wrong-key-abcdefghijkl"})
        # A stdlib logger inside a request: JSON too, with the request id, and redacted.
        logging.getLogger("tests.ops").warning(
            "something happened", extra={"text": SECRET_TEXT, "api_key": API_KEY, "chat": 5}
        )
        out = capsys.readouterr().out
    assert first.status_code == second.status_code == 200
    assert denied.status_code == 401

    lines = json_lines(out)
    assert lines, out
    access = [line for line in lines if line.get("logger") == "assistant.access"]
    by_id = {line["request_id"]: line for line in access}
    entry = by_id["req-first"]
    assert entry["event"] == "request"
    assert entry["method"] == "POST" and entry["route"] == "/v1/tasks/summarize"
    assert entry["status"] == 200 and entry["task"] == "summarize"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert isinstance(entry["key_id"], int)
    assert by_id["req-second"]["key_id"] == entry["key_id"]
    unauthorized = [line for line in access if line["status"] == 401]
    assert unauthorized and unauthorized[0]["key_id"] is None

    stdlib = [line for line in lines if line.get("logger") == "tests.ops"]
    assert stdlib and stdlib[0]["level"] == "warning" and stdlib[0]["chat"] == 5
    assert stdlib[0]["text"] == f"[{len(SECRET_TEXT)} chars]"
    assert stdlib[0]["api_key"] == "[redacted]"
    # Nothing anywhere in the output: not the text, not the keys.
    for secret in ("Zebra-quokka-7731", API_KEY, "wrong-key-abcdefghijkl", "sk-test"):
        assert secret not in out


async def test_log_texts_true_lets_texts_through_but_never_keys(
    make_client: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client(log_texts=True) as client:
        capsys.readouterr()
        logging.getLogger("tests.ops").info(
            "debugging", extra={"text": SECRET_TEXT, "api_key": API_KEY}
        )
        await client.get("/health")
        out = capsys.readouterr().out
    line = next(x for x in json_lines(out) if x.get("logger") == "tests.ops")
    assert line["text"] == SECRET_TEXT
    assert line["api_key"] == "[redacted]"
    assert API_KEY not in out
