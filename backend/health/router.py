from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.core.deps import ResourcesDep
from backend.core.errors import error_response

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 3.0


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: database and cache reachable")
async def ready(resources: ResourcesDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": resources.engine.dialect.name}
    except Exception as exc:  # any failure means "not ready"; the reason goes in the details
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            cache_ok = await resources.cache.ping()
    except TimeoutError:
        cache_ok = False
    checks["cache"] = {"ok": cache_ok, "backend": resources.cache.name}
    checks["llm"] = {
        "mode": "llm" if resources.llm else "offline",
        "endpoint": resources.llm.endpoint.name if resources.llm else None,
        # An open breaker is degradation, not unreadiness: fallbacks or offline answers go on.
        "breakers": await resources.llm.breaker_states() if resources.llm else {},
    }
    # History records waiting for the database: informational (they are safe), never "not ready".
    checks["history_spool"] = await resources.recorder.spool_status(CHECK_TIMEOUT_S)
    if all(c.get("ok", True) for c in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return error_response(503, "not_ready", "A dependency is unavailable.", {"checks": checks})
