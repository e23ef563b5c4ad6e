"""Liveness, readiness and the one error shape for everything that goes wrong."""

from __future__ import annotations

import pytest

from tests.conftest import AUTH, AppFactory, Stack


async def test_health_and_ready(make_client: AppFactory, stack: Stack) -> None:
    async with make_client() as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["cache"]["backend"] == ("redis" if stack.redis_url else "memory")
    assert checks["llm"]["mode"] == "offline"


async def test_ready_is_503_when_redis_is_unreachable(make_client: AppFactory) -> None:
    async with make_client(redis_url="redis://127.0.0.1:1/0") as client:
        ready = await client.get("/ready")
        # Tasks still answer: the cache degrades to misses.
        task = await client.post(
            "/v1/tasks/summarize", json={"text": "Uno. Dos. Tres. Cuatro."}, headers=AUTH
        )
    assert ready.status_code == 503
    body = ready.json()["error"]
    assert body["code"] == "not_ready"
    assert body["details"]["checks"]["cache"]["ok"] is False
    assert task.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/nowhere", {}, 404, "not_found"),
        ("delete", "/v1/tasks", {}, 405, "method_not_allowed"),
        (
            "post",
            "/v1/tasks/summarize",
            {"content": b"{not json", "headers": {**AUTH, "content-type": "application/json"}},
            422,
            "validation_error",
        ),
        (
            "post",
            "/v1/tasks/summarize",
            {
                "content": b"\xff\xfegarbage",
                "headers": {**AUTH, "content-type": "application/json"},
            },
            400,
            "invalid_body",
        ),
        (
            "post",
            "/v1/tasks/summarize",
            {"content": b"x" * 5000, "headers": AUTH},
            413,
            "payload_too_large",
        ),
        (
            "post",
            "/v1/tasks/summarize",
            {"json": {"text": "a\u0000b"}, "headers": AUTH},
            422,
            "invalid_characters",
        ),
        (
            "post",
            "/v1/tasks/summarize",
            {
                "content": b'{"text": "a\\u0000b"}',
                "headers": {**AUTH, "content-type": "application/json"},
            },
            422,
            "invalid_characters",
        ),
        ("get", "/v1/history?q=a%00b", {"headers": AUTH}, 422, "invalid_characters"),
    ],
)
async def test_errors_share_one_shape(
    make_client: AppFactory,
    method: str,
    path: str,
    kwargs: dict[str, object],
    status: int,
    code: str,
) -> None:
    async with make_client(max_body_bytes=4096) as client:
        response = await getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.text
