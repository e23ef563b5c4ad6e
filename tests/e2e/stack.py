"""Everything the n8n workflows talk to, started for real: the service (uvicorn, PostgreSQL, Redis,
the fake LLM), the fake Telegram Bot API, and n8n with the workflows imported and active."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_sync
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core.config import Settings
from backend.main import create_app
from tests.e2e.n8n_runtime import N8n, ensure_n8n
from tests.support.fake_llm import FakeLLM
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import ThreadedServer

FLOWS_DIR = Path(__file__).resolve().parents[2] / "n8n-flows"
# The ids the workflow files reference, so imported credentials attach without editing.
API_CREDENTIAL_ID = "WaAssistantApi01"
TELEGRAM_CREDENTIAL_ID = "WaTelegramBot001"


def load_flows() -> dict[str, dict[str, Any]]:
    """`telegram-assistant` -> the workflow JSON, for every file in n8n-flows/."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(FLOWS_DIR.glob("*.json"))}


def credentials(api_key: str, telegram: FakeTelegram) -> list[dict[str, Any]]:
    return [
        {
            "id": API_CREDENTIAL_ID,
            "name": "Workflow Assistant API",
            "type": "httpHeaderAuth",
            "data": {"name": "x-api-key", "value": api_key},
        },
        {
            "id": TELEGRAM_CREDENTIAL_ID,
            "name": "Telegram Bot",
            "type": "telegramApi",
            "data": {"accessToken": telegram.token, "baseUrl": telegram.url},
        },
    ]


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


class RecordingApp:
    """The service as n8n reaches it, noting each request's method, path and headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[SeenRequest] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.requests.append(SeenRequest(scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)

    def to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]


class ServiceServer(ThreadedServer):
    """ThreadedServer with more patience: the service's start-up (migrations check, partitions,
    history maintenance) can take a while on a busy CI machine."""

    def start(self) -> ServiceServer:
        self._thread.start()
        deadline = time.monotonic() + 120
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the service did not start (see the log above)")
            time.sleep(0.05)
        return self


class JobWorker:
    """`assistant worker` in a thread of its own: runs the service's background jobs."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from backend.jobs.worker import build_worker

        asyncio.set_event_loop(self._loop)
        worker = build_worker(self._settings, handle_signals=False)
        self._task = self._loop.create_task(worker.main())
        self._ready.set()
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.run_until_complete(worker.close())
            self._loop.close()

    def start(self) -> JobWorker:
        self._thread.start()
        self._ready.wait(timeout=30)
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=30)


@dataclass
class Stack:
    n8n: N8n
    service: ThreadedServer
    seen: RecordingApp
    telegram: FakeTelegram
    llm: FakeLLM
    flows: dict[str, dict[str, Any]]
    redis_prefix: str
    database_url: str

    def webhook_url(self, path: str) -> str:
        return f"{self.n8n.url}/webhook/{path}"

    def node(self, flow: str, node_type: str) -> dict[str, Any]:
        return next(n for n in self.flows[flow]["nodes"] if n["type"] == node_type)


@contextmanager
def running_stack(
    *,
    database_url: str,
    redis_url: str,
    api_key: str,
    llm: FakeLLM,
    home: Path,
    settings: dict[str, Any] | None = None,
) -> Iterator[Stack]:
    binary = ensure_n8n()
    prefix = f"wa-e2e:{uuid.uuid4().hex[:8]}:"
    app_settings = Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=prefix,
        api_key=api_key,
        data_dir=home / "data",
        environment="test",
        openai_base_url=llm.base_url,
        openai_api_key="sk-test",
        openai_timeout=5,
        openai_retry_delay_base=0.01,
        openai_retry_delay_max=0.05,
        openai_retry_jitter=0.01,
        # The flows' requests come in bursts from one key; limits have their own tests.
        rate_limit=None,
        # The job callbacks go to n8n on 127.0.0.1.
        jobs_callback_backoff=0.2,
        **(settings or {}),
    )
    seen = RecordingApp(create_app(app_settings))
    service = ServiceServer(seen, lifespan="on").start()
    worker = JobWorker(app_settings).start()
    telegram = FakeTelegram().start()
    n8n = N8n(binary, home / "n8n", {"ASSISTANT_URL": service.url})
    n8n.home.mkdir(parents=True, exist_ok=True)
    try:
        n8n.import_credentials(credentials(api_key, telegram))
        flows = load_flows()
        n8n.import_workflows(FLOWS_DIR)
        n8n.activate_all()
        n8n.start()
        n8n.wait_active([flow["id"] for flow in flows.values()])
        yield Stack(n8n, service, seen, telegram, llm, flows, prefix, database_url)
    finally:
        n8n.stop()
        telegram.stop()
        worker.stop()
        service.stop()
        client = redis_sync.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
