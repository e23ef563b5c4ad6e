"""How routes opt in: take the `Idempotency-Key` header and wrap their work in `respond_once`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Response

from backend.core.resources import Resources
from backend.idempotency.store import fingerprint

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Any unique string (e.g. a UUID or the Telegram update id). Repeating the request "
            "with the same key within 24 h returns the stored response, without running it "
            "again; reusing it with a different body is a 409."
        ),
    ),
]


async def respond_once(
    resources: Resources,
    response: Response,
    *,
    api_key_id: int,
    idempotency_key: str | None,
    scope: str,
    body: Any,
    compute: Callable[[], Awaitable[dict[str, Any]]],
    status_code: int = 200,
) -> dict[str, Any]:
    """Run `compute` once per Idempotency-Key; the route's own status is stored and replayed."""
    if idempotency_key is None:
        return await compute()

    async def first() -> tuple[dict[str, Any], int]:
        return await compute(), status_code

    replay = await resources.idempotency.run(
        api_key_id, idempotency_key, fingerprint(scope, body), first
    )
    if replay.replayed:
        response.status_code = replay.status
        response.headers["Idempotent-Replayed"] = "true"
    return replay.body
