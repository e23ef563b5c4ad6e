"""Keeps assistant_jobs_queue_depth fresh on the API replicas: Prometheus scrapes the API, not
the workers, so the queue length is read from Redis at scrape time."""

from __future__ import annotations

from backend.core.resources import Resources
from backend.observability.exposition import on_scrape


@on_scrape
async def refresh_queue_depth(resources: Resources) -> None:
    if resources.jobs is not None:
        await resources.jobs.refresh_depth()
