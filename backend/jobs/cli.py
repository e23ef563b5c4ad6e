"""`assistant worker`: run background job workers."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from backend.core.config import load_settings


def worker(
    burst: Annotated[
        bool, typer.Option(help="Exit once the queue is empty (batch runs, tests).")
    ] = False,
) -> None:
    """Run a background job worker (arq) until SIGTERM. Start as many as you need."""
    from backend.jobs.worker import build_worker

    settings = load_settings()
    if settings.effective_redis_url is None:
        typer.echo("Background jobs need Redis: set REDIS_URL (or REDIS_HOST).", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=settings.log_level)
    build_worker(settings, burst=burst).run()
