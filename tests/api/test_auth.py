"""API keys: header and Bearer, wrong/revoked keys, the CLI, hashed storage."""

from __future__ import annotations

import asyncpg
import pytest
from typer.testing import CliRunner

from backend.auth.service import hash_key
from backend.cli import app as cli
from tests.conftest import API_KEY, AUTH, AppFactory, Stack


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "wrong-key"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic x"},
    ],
)
async def test_missing_or_wrong_key_is_401(
    make_client: AppFactory, headers: dict[str, str]
) -> None:
    async with make_client() as client:
        response = await client.post("/v1/tasks/summarize", json={"text": "hola"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_bearer_and_header_both_work(make_client: AppFactory) -> None:
    async with make_client() as client:
        for headers in (AUTH, {"Authorization": f"Bearer {API_KEY}"}):
            response = await client.get("/v1/tasks", headers=headers)
            assert response.status_code == 200


async def test_cli_creates_lists_and_revokes_keys(
    make_client: AppFactory, stack: Stack, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI is configured like the service it manages (same database, same Redis namespace).
    monkeypatch.setenv("DATABASE_URL", stack.database_url)
    monkeypatch.setenv("REDIS_URL", stack.redis_url or "")
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    runner = CliRunner()
    async with make_client() as client:
        created = await _invoke(runner, ["keys", "create", "--name", "n8n"])
        new_key = created.strip().splitlines()[-1]
        assert new_key.startswith("wa_")
        ok = await client.get("/v1/tasks", headers={"x-api-key": new_key})
        assert ok.status_code == 200

        listing = await _invoke(runner, ["keys", "list"])
        assert "n8n" in listing and new_key not in listing
        n8n_line = next(line for line in listing.splitlines() if "\tn8n\t" in line)
        key_id = n8n_line.split("\t")[0]
        assert "last_used=-" not in n8n_line  # the request above was recorded

        await _invoke(runner, ["keys", "revoke", key_id])
        revoked = await client.get("/v1/tasks", headers={"x-api-key": new_key})
        assert revoked.status_code == 401
        # The bootstrap key is unaffected.
        assert (await client.get("/v1/tasks", headers=AUTH)).status_code == 200

    if stack.name == "postgres+redis":
        conn = await asyncpg.connect(stack.database_url.replace("+asyncpg", ""))
        try:
            hashes = [r["key_hash"] for r in await conn.fetch("SELECT key_hash FROM api_keys")]
        finally:
            await conn.close()
        assert hash_key(new_key) in hashes and new_key not in hashes
        assert hash_key(API_KEY) in hashes


async def _invoke(runner: CliRunner, args: list[str]) -> str:
    import asyncio

    # The CLI runs its own event loop, so it goes to a thread.
    result = await asyncio.to_thread(runner.invoke, cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout


async def test_without_any_key_configured_one_is_generated(
    make_client: AppFactory, tmp_path: object
) -> None:
    async with make_client(api_key=None, data_dir=tmp_path) as client:
        from pathlib import Path

        key = (Path(str(tmp_path)) / "api-key.txt").read_text().strip()
        assert key.startswith("wa_")
        assert (await client.get("/v1/tasks", headers={"x-api-key": key})).status_code == 200
