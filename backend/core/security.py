"""Secure defaults: security headers on every response, CORS only when configured."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import Settings

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"interest-cohort=()"),
]
# The API serves JSON only; the interactive docs need inline scripts from the docs bundle.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        is_docs = path.startswith(("/docs", "/redoc"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [h for h in SECURITY_HEADERS if h[0] not in present]
                if not is_docs and API_CSP[0] not in present:
                    extra.append(API_CSP)
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment == "production")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=[
                "x-api-key",
                "authorization",
                "content-type",
                "idempotency-key",
                "cache-control",
                "x-request-id",
            ],
        )
