"""`ApiKeyDep`: the authenticated caller, from `x-api-key` or `Authorization: Bearer`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from backend.auth.service import AuthenticatedKey
from backend.core.deps import ResourcesDep
from backend.core.errors import RateLimited, Unauthorized

# auto_error=False: we answer missing credentials ourselves, in our error shape.
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


async def require_api_key(
    request: Request,
    response: Response,
    resources: ResourcesDep,
    header_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedKey:
    raw = header_key or (bearer.credentials if bearer else None)
    if not raw or len(raw) > 256:
        raise Unauthorized()
    key = await resources.authenticator.verify(raw.strip())
    if key is None:
        raise Unauthorized("The API key is not valid, or it was revoked or has expired.")
    request.state.api_key_id = key.id
    await _enforce_rate_limit(key, resources, response)
    return key


async def _enforce_rate_limit(
    key: AuthenticatedKey, resources: ResourcesDep, response: Response
) -> None:
    """Every authenticated request counts against its key's limit (its own or RATE_LIMIT)."""
    rate = key.rate_limit or resources.settings.rate_limit
    if not rate:
        return
    decision = await resources.limiter.hit(f"key:{key.id}", rate)
    if not decision.allowed:
        raise RateLimited(
            f"Too many requests for this API key (limit {rate}); retry after the reset.",
            details={"limit": rate},
            headers=decision.headers(),
        )
    response.headers.update(decision.headers())


ApiKeyDep = Annotated[AuthenticatedKey, Depends(require_api_key)]
