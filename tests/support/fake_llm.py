"""A fake OpenAI-compatible server: answers /v1/chat/completions, counts calls, fails on demand.

Tests talk to it through the real `openai` client, so retries, timeouts and error mapping are the
production code paths.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import ThreadedServer

Responder = Callable[[list[dict[str, Any]], dict[str, Any]], str]


@dataclass
class Fault:
    """One scripted misbehaviour, consumed by the next call."""

    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    body: str | None = None
    # Close the connection in the middle of the response (the client sees a broken connection).
    drop: bool = False


class _DroppedConnection(Response):
    """Starts a response, then fails: the server closes the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
        )
        await send({"type": "http.response.body", "body": b'{"id": "partial', "more_body": True})
        raise ConnectionResetError("fake upstream dropped the connection")


def default_responder(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
    """Deterministic answers that depend on the prompt, so tests can check what reached the LLM."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    text = re.sub(r"^<text>\n|\n</text>$", "", user)
    if "You classify texts" in system:
        labels = json.loads(re.search(r"list: (\[.*?\])\.", system).group(1))  # type: ignore[union-attr]
        chosen = next((lb for lb in labels if lb.lower() in text.lower()), labels[0])
        return json.dumps({"label": chosen, "labels": [chosen]})
    if "You summarize texts" in system:
        return "LLM summary: " + text.split(".")[0].strip() + "."
    if "You are a translator" in system:
        target = re.search(r"code '(\w+)'", system).group(1)  # type: ignore[union-attr]
        return f"[{target}] {text}"
    if "You extract information" in system:
        return json.dumps(fake_extraction(system, text))
    if "You analyse the sentiment" in system:
        return json.dumps(fake_sentiment(text))
    if "You write activity digests" in system:
        return f"LLM digest of {len(text.splitlines())} requests."
    if "You write texts on request" in system:
        request = re.sub(r"^<request>\n|\n</request>$", "", user)
        return "LLM text: " + request[:200]
    return "LLM answer: " + text[:200]


def fake_extraction(system: str, text: str) -> dict[str, Any]:
    """A valid `extract` answer: emails by regex, capitalized words as people (enough for tests)."""
    custom = re.search(r"null when absent\): (\{.*\})\. ", system)
    fields = None
    if custom:
        fields = dict.fromkeys(json.loads(custom.group(1)).get("properties", {}))
    return {
        "people": re.findall(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", text)[:3],
        "organizations": [],
        "places": [],
        "dates": [],
        "amounts": [],
        "emails": re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+\w", text),
        "urls": [],
        "phones": [],
        "fields": fields,
    }


def fake_sentiment(text: str) -> dict[str, Any]:
    lowered = text.lower()
    if any(w in lowered for w in ("good", "great", "love", "excelente", "bueno", "encanta")):
        return {"label": "positive", "score": 0.8, "evidence": []}
    if any(w in lowered for w in ("bad", "terrible", "awful", "malo", "horrible", "pésimo")):
        return {"label": "negative", "score": -0.8, "evidence": []}
    return {"label": "neutral", "score": 0.0, "evidence": []}


@dataclass
class FakeLLM:
    responder: Responder = default_responder
    model: str = "fake-model"
    latency: float = 0.0
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadedServer | None = None

    # --- control from tests ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None
        return self._server.url + "/v1"

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def fail(self, times: int = 1, **fault: Any) -> None:
        for _ in range(times):
            self.faults.append(Fault(**fault))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()
        self.responder = default_responder
        self.latency = 0.0

    # --- server ------------------------------------------------------------------------------
    def start(self) -> FakeLLM:
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        self._server = ThreadedServer(app).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                return _DroppedConnection()
            if fault.status < 400:
                return self._completion(body)
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            payload = fault.body or json.dumps(
                {"error": {"message": f"fault {fault.status}", "type": "server_error"}}
            )
            return Response(
                payload, status_code=fault.status, headers=headers, media_type="application/json"
            )
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._completion(body)

    def _completion(self, body: dict[str, Any]) -> JSONResponse:
        content = self.responder(body["messages"], body)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(content.split())
        return JSONResponse(
            {
                "id": f"chatcmpl-{time.monotonic_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )
