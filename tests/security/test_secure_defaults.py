"""Secure defaults: headers on every answer, CORS only for configured origins, docs can be off."""

from __future__ import annotations

from tests.conftest import AUTH, AppFactory


async def test_security_headers_and_no_cors_by_default(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.get("/v1/tasks", headers={**AUTH, "Origin": "https://evil.example"})
        error = await client.get("/v1/tasks")
    for answer in (response, error):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers


async def test_cors_only_for_configured_origins(make_client: AppFactory) -> None:
    async with make_client(cors_origins="https://n8n.example.com") as client:
        allowed = await client.options(
            "/v1/tasks/summarize",
            headers={
                "Origin": "https://n8n.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key",
            },
        )
        denied = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://n8n.example.com"
    assert "access-control-allow-origin" not in denied.headers


async def test_docs_can_be_turned_off(make_client: AppFactory) -> None:
    async with make_client(docs_enabled=False) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
