"""`ApiKeyDep`: the authenticated caller, from `x-api-key` or `Authorization: Bearer`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from backend.auth.authenticator import Authenticator
from backend.auth.service import AuthenticatedKey
from backend.core.deps import ResourcesDep
from backend.core.errors import Unauthorized

# auto_error=False: we answer missing credentials ourselves, in our error shape.
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


async def require_api_key(
    request: Request,
    resources: ResourcesDep,
    header_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedKey:
    raw = header_key or (bearer.credentials if bearer else None)
    if not raw or len(raw) > 256:
        raise Unauthorized()
    authenticator = Authenticator(
        resources.sessionmaker, resources.redis, resources.settings.redis_key_prefix
    )
    key = await authenticator.verify(raw.strip())
    if key is None:
        raise Unauthorized("The API key is not valid, or it was revoked or has expired.")
    request.state.api_key_id = key.id
    return key


ApiKeyDep = Annotated[AuthenticatedKey, Depends(require_api_key)]
