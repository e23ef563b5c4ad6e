"""The FastAPI application factory. `uvicorn backend.main:app` or `assistant serve`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend import __version__
from backend.bot.app import telegram_webhook
from backend.bot.router import router as telegram_router
from backend.chats.router import router as chats_router
from backend.compat.router import router as compat_router
from backend.core.bootstrap import ensure_api_access
from backend.core.config import Settings, load_settings
from backend.core.errors import COMMON_ERROR_RESPONSES, install_error_handlers
from backend.core.limits import BodySizeLimitMiddleware
from backend.core.resources import Resources
from backend.core.security import install_security
from backend.health.router import router as health_router
from backend.history.router import router as history_router
from backend.jobs.router import router as jobs_router
from backend.observability.setup import install_observability
from backend.offline.language import warm_up
from backend.tasks.registry import TaskRegistry
from backend.tasks.router import build_router as build_tasks_router
from backend.usage.router import router as usage_router

DESCRIPTION = """Self-hosted AI text processing for n8n, Telegram and scripts.

Authenticate with `x-api-key: KEY` or `Authorization: Bearer KEY`. Errors always look like
`{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    registry = TaskRegistry.discover()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await Resources.open(settings, registry)
        app.state.resources = resources
        try:
            await ensure_api_access(resources)
            warm_up()
            async with telegram_webhook(app, resources):  # the bot, when in webhook mode
                yield
        finally:
            await resources.close()

    docs = settings.docs_enabled
    app = FastAPI(
        title="Workflow Assistant",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=COMMON_ERROR_RESPONSES,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_security(app, settings)
    install_observability(app, settings)
    app.include_router(health_router)
    app.include_router(build_tasks_router(registry))
    app.include_router(history_router)
    app.include_router(chats_router)
    app.include_router(compat_router)
    app.include_router(usage_router)
    app.include_router(jobs_router)
    app.include_router(telegram_router)
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn backend.main:app` gets an app built from the environment, but importing this
    # module (tests, the CLI) builds nothing.
    if name == "app":
        return create_app()
    raise AttributeError(name)
