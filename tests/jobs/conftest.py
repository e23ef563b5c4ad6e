"""Jobs need Redis: these tests run on PostgreSQL + Redis, with an in-process arq worker."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.core.config import Settings
from backend.jobs.worker import build_worker
from tests.conftest import Stack, app_of
from tests.support.servers import ThreadedServer

# Fast settings for tests: quick polling, tiny callback backoff.
JOB_SETTINGS: dict[str, Any] = {
    "jobs_poll_delay": 0.05,
    "jobs_callback_backoff": 0.01,
    "jobs_callback_backoff_max": 0.05,
    "jobs_callback_attempts": 3,
    "rate_limit": None,
}


@pytest.fixture
def stack(pg_stack: Stack) -> Stack:
    return pg_stack


def settings_of(client: httpx.AsyncClient) -> Settings:
    settings: Settings = app_of(client).state.resources.settings
    return settings


async def drain(client: httpx.AsyncClient) -> None:
    """Run an arq worker (same settings as the app) until the queue is empty."""
    worker = build_worker(settings_of(client), burst=True, handle_signals=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()


@dataclass
class Receiver:
    """A real HTTP endpoint for callbacks: records what arrives, answers scripted statuses."""

    statuses: deque[int] = field(default_factory=deque)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadedServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append((dict(request.headers), body))
            status = self.statuses.popleft() if self.statuses else 200
        return Response(status_code=status)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.server = ThreadedServer(
        Starlette(routes=[Route("/hook", hook._hook, methods=["POST"])])
    ).start()
    yield hook
    hook.server.stop()
