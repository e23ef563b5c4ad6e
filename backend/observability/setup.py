"""One call from the app factory wires logs, metrics and request ids."""

from __future__ import annotations

from fastapi import FastAPI

from backend.core.config import Settings
from backend.observability.exposition import instrument
from backend.observability.exposition import router as metrics_router
from backend.observability.logs import configure_logging
from backend.observability.middleware import RequestContextMiddleware


def install_observability(app: FastAPI, settings: Settings) -> None:
    # In the factory rather than the lifespan: uvicorn builds the app before it logs its start-up
    # lines, so those come out as JSON too.
    configure_logging(settings)
    if settings.metrics_enabled:
        instrument(app)
        app.include_router(metrics_router)
    # Added last, so it is the outermost middleware: even a 413 from the body limit gets an id.
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
