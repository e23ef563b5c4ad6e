"""Guards on raw input, as a plain ASGI middleware, before any of it is parsed:

- bodies over MAX_BODY_BYTES are refused (413) before they are read whole;
- NUL characters (raw, `\\u0000` in JSON or `%00` in the URL) are refused (422): PostgreSQL cannot
  store them, and no text a person writes contains one.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import error_response

# A JSON `\u0000` escape: a backslash-u preceded by an even number of backslashes (an odd run
# would be an escaped backslash followed by the literal text "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_TAIL = 16


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, int]) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details


def _nul_error() -> _Refused:
    return _Refused(
        422,
        "invalid_characters",
        "The request contains a NUL character (\\u0000), which is "
        "not allowed in texts or parameters.",
        {},
    )


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> _Refused:
        return _Refused(
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_bytes} bytes (MAX_BODY_BYTES).",
            {"limit": self.max_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_head(scope)
        except _Refused as refused:
            await self._refuse(refused, scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _Refused as refused:
            await self._refuse(refused, scope, receive, send)
            return
        # The body (at most MAX_BODY_BYTES) is replayed to the app in one message; later receives
        # (disconnects) go to the server as usual.
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        received = 0
        tail = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Refused(400, "bad_request", "The client disconnected.", {})
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                raise self._too_large()
            window = tail + chunk
            if b"\x00" in chunk or _JSON_NUL.search(window):
                raise _nul_error()
            tail = window[-_TAIL:]
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _check_head(self, scope: Scope) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            raise _nul_error()

    async def _refuse(self, refused: _Refused, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(refused.status, refused.code, refused.message, refused.details)
        await response(scope, receive, send)
