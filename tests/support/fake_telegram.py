"""A fake Telegram Bot API server (`/bot<token>/<method>`), so the real python-telegram-bot and
n8n's Telegram nodes run against it unchanged. It records every call and serves updates that tests
queue for `getUpdates`.

Point python-telegram-bot at it with `base_url=f"{fake.url}/bot"` and n8n's Telegram credential
with Base URL `fake.url`. Parameters are recorded as sent: JSON bodies as they are; form posts
(python-telegram-bot) with scalars as strings and structured values (reply_markup, commands...)
decoded from JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import ThreadedServer

BOT_USER = {
    "id": 999000111,
    "is_bot": True,
    "first_name": "Workflow Assistant",
    "username": "workflow_assistant_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


# Fields that are free text: never decoded, even when they look like JSON.
_TEXT_FIELDS = frozenset({"text", "caption", "query", "data", "description", "short_description"})


def _decode_form_value(key: str, value: str) -> Any:
    """Structured form values (reply_markup, allowed_updates, commands...) as JSON; scalars stay
    strings, as Telegram receives them."""
    if key in _TEXT_FIELDS or not value.startswith(("{", "[")):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


@dataclass
class RecordedCall:
    method: str
    token: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-TOKEN"
    calls: list[RecordedCall] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadedServer | None = None

    # --- control from tests ------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    @property
    def bot_base_url(self) -> str:
        """What python-telegram-bot's `base_url` expects (it appends the token)."""
        return self.url + "/bot"

    def reserve(self) -> FakeTelegram:
        """Take a port (so `url` is known) without serving yet: until `start()`, connections are
        refused, as when Telegram is unreachable."""
        if self._server is None:
            app = Starlette(
                routes=[Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"])]
            )
            self._server = ThreadedServer(app)
        return self

    def start(self) -> FakeTelegram:
        self.reserve()
        assert self._server is not None
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._updates.clear()
            self.webhook.clear()

    def next_update_id(self) -> int:
        return next(self._ids)

    def message_update(
        self,
        text: str,
        chat_id: int = 1001,
        *,
        chat_type: str = "private",
        user_id: int = 555,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A `message` update as Telegram sends it; commands get their bot_command entity."""
        if entities is None and text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message: dict[str, Any] = {
            "message_id": self.next_update_id(),
            "date": int(time.time()),
            "chat": {
                "id": chat_id,
                "type": chat_type,
                **({"first_name": "Ana"} if chat_type == "private" else {"title": "Grupo"}),
            },
            "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "text": text,
        }
        if entities:
            message["entities"] = entities
        return {"update_id": self.next_update_id(), "message": message}

    def callback_update(self, data: str, chat_id: int = 1001, user_id: int = 555) -> dict[str, Any]:
        return {
            "update_id": self.next_update_id(),
            "callback_query": {
                "id": str(self.next_update_id()),
                "chat_instance": "ci-1",
                "from": {"id": user_id, "is_bot": False, "first_name": "Ana"},
                "data": data,
                "message": {
                    "message_id": self.next_update_id(),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
                    "from": BOT_USER,
                    "text": "Elige un modo",
                },
            },
        }

    def queue(self, *updates: dict[str, Any]) -> None:
        with self._lock:
            self._updates.extend(updates)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in self.calls_to("sendMessage")
            if chat_id is None or int(c.params.get("chat_id", 0)) == chat_id
        ]

    async def wait_for(
        self, method: str, count: int = 1, within: float = 10.0
    ) -> list[RecordedCall]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} {method} call(s), got {self.calls_to(method)}")

    # --- server ------------------------------------------------------------------------------
    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif "x-www-form-urlencoded" in content_type:
            # python-telegram-bot posts forms, its non-string values JSON-encoded.
            form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
            params.update({k: _decode_form_value(k, v) for k, v in form})
        elif "form" in content_type:
            form_data = await request.form()
            params.update(
                {k: _decode_form_value(k, v) for k, v in form_data.items() if isinstance(v, str)}
            )
        return params

    async def _handle(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = request.path_params["method"]
        params = await self._params(request)
        if token != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        with self._lock:
            self.calls.append(RecordedCall(method, token, params))
        result = await self._result(method, params)
        return JSONResponse({"ok": True, "result": result})

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getme":
            return BOT_USER
        if name == "getupdates":
            return await self._get_updates(params)
        if name in ("sendmessage", "editmessagetext"):
            return {
                "message_id": int(params.get("message_id") or self.next_update_id()),
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        if name == "setwebhook":
            with self._lock:
                self.webhook = {
                    "url": params.get("url", ""),
                    "secret_token": params.get("secret_token"),
                }
            return True
        if name == "deletewebhook":
            with self._lock:
                self.webhook = {}
            return True
        if name == "getwebhookinfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        # sendChatAction, answerCallbackQuery, setMyCommands, ... just succeed.
        return True

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        long_poll = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + long_poll
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates)
            if pending or time.monotonic() >= deadline:
                return pending
            await asyncio.sleep(0.05)
