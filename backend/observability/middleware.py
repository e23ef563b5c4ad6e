"""Request ids and the access log, as one plain ASGI middleware (the outermost of ours).

- `X-Request-ID`: an incoming id is kept when it is sane (so a proxy's or n8n's id follows the
  request through our logs), otherwise a new one is made; either way the response carries it back.
- The id is bound into structlog's context variables, so every line logged while the request runs
  (stdlib loggers included) carries `request_id`.
- One access-log line per request: request id, API key id (never the key), method, route template
  (never the raw path with its ids), status, duration, task and cache outcome when the route set
  them (`request.state.task`, `request.state.cache_outcome`).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# Letters, digits and a few separators, at most 128: anything else could forge log lines.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Probes and scrapes hit these every few seconds; log them only when they fail.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})
_TASK_ROUTE_PREFIX = "/v1/tasks/"

access_logger = structlog.stdlib.get_logger("assistant.access")


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1").strip()
            return candidate if _SANE_ID.fullmatch(candidate) else None
    return None


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (`/v1/history/{record_id}`), None when nothing matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def _task_of(state: dict[str, Any], route: str | None) -> str | None:
    task = state.get("task")
    if isinstance(task, str):
        return task
    # One typed route per task: /v1/tasks/summarize names its task.
    if route and route.startswith(_TASK_ROUTE_PREFIX) and "{" not in route:
        return route.removeprefix(_TASK_ROUTE_PREFIX)
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        # `request.state` is a view of this dict: routes and dependencies write to it
        # (api_key_id, cache_outcome, task) and we read it back after the response.
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500  # what the caller gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if self.access_log:
                    self._log(scope, state, status, started)

    def _log(self, scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        route = route_template(scope)
        if route in QUIET_ROUTES and status < 400:
            return
        fields: dict[str, Any] = {
            "method": scope.get("method"),
            "route": route,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "key_id": state.get("api_key_id"),
        }
        task = _task_of(state, route)
        if task is not None:
            fields["task"] = task
        if state.get("cache_outcome") is not None:
            fields["cache"] = state["cache_outcome"]
        if status >= 500:
            access_logger.error("request", **fields)
        else:
            access_logger.info("request", **fields)
