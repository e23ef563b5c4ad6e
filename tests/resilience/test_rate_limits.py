"""Per-key rate limits: RATE_LIMIT, per-key overrides, headers, shared across replicas."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.core.config import Settings
from tests.conftest import AUTH, AppFactory
from tests.resilience.conftest import REDIS_ONLY, two_instances
from tests.support.keys import new_key

BODY = {"text": "Un texto corto para resumir. Con dos frases."}


async def test_over_the_limit_is_429_with_headers(make_client: AppFactory) -> None:
    async with make_client(rate_limit="3/minute") as client:
        remaining = []
        for _ in range(3):
            ok = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
            assert ok.status_code == 200
            assert ok.headers["ratelimit-limit"] == "3"
            remaining.append(int(ok.headers["ratelimit-remaining"]))
        assert remaining == [2, 1, 0]

        refused = await client.post("/v1/tasks/summarize", json=BODY, headers=AUTH)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert 0 <= int(refused.headers["ratelimit-reset"]) <= 60


async def test_each_key_has_its_own_budget_of_requests(make_client: AppFactory) -> None:
    async with make_client(rate_limit="2/minute") as client:
        _, other = await new_key(client)
        for _ in range(2):
            assert (await client.get("/v1/tasks", headers=AUTH)).status_code == 200
        assert (await client.get("/v1/tasks", headers=AUTH)).status_code == 429
        assert (await client.get("/v1/tasks", headers=other)).status_code == 200


async def test_per_key_override_beats_the_default(make_client: AppFactory) -> None:
    async with make_client(rate_limit="100/minute") as client:
        _, strict = await new_key(client, "strict", rate_limit="1/minute")
        assert (await client.get("/v1/tasks", headers=strict)).status_code == 200
        refused = await client.get("/v1/tasks", headers=strict)
        assert refused.status_code == 429
        assert refused.headers["ratelimit-limit"] == "1"
        assert (await client.get("/v1/tasks", headers=AUTH)).status_code == 200


async def test_rate_limit_can_be_turned_off(make_client: AppFactory) -> None:
    async with make_client(rate_limit="off") as client:
        response = await client.get("/v1/tasks", headers=AUTH)
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers


@REDIS_ONLY
async def test_the_limit_holds_across_replicas(make_client: AppFactory) -> None:
    async with two_instances(make_client, rate_limit="4/minute") as (first, second):
        codes = [
            (await (first if i % 2 else second).get("/v1/tasks", headers=AUTH)).status_code
            for i in range(6)
        ]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_invalid_rate_limit_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="60/minute"):
        Settings(_env_file=None, rate_limit="lots")
