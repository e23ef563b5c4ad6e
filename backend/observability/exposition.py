"""`GET /metrics`: HTTP metrics from prometheus-fastapi-instrumentator plus ours, for Prometheus.

- HTTP metrics are labelled by route template (`/v1/history/{record_id}`), never by raw path;
  unmatched paths are grouped as `none`, so scanners cannot blow up the series count.
- Probes, the docs and /metrics itself are not counted: they would drown the request rate.
- With METRICS_TOKEN set, a scrape needs `Authorization: Bearer METRICS_TOKEN`.
- Each scrape probes the database and the cache (short timeouts) and sets `assistant_dependency_up`.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import os
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as prometheus_fastapi_metrics
from prometheus_fastapi_instrumentator.metrics import Info
from sqlalchemy import text

from backend import __version__
from backend.core.deps import ResourcesDep
from backend.core.errors import Unauthorized
from backend.core.resources import Resources
from backend.observability.metrics import BUILD_INFO, DEPENDENCY_UP

METRICS_PATH = "/metrics"
EXCLUDED_HANDLERS = [r"^/health$", r"^/ready$", r"^/metrics$", r"^/docs", r"^/redoc", "^/openapi"]
# Finer than the instrumentator's default (0.1, 0.5, 1): p50/p95 per route and the 2 s alert need
# buckets around and above 2 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30)
PROBE_TIMEOUT_S = 2.0

ScrapeHook = Callable[[Resources], Awaitable[None]]
# Gauges that only the API process can read fresh (a Redis queue length...) are refreshed here, at
# scrape time: register a hook with `on_scrape` from the domain that owns the gauge.
_SCRAPE_HOOKS: list[ScrapeHook] = []

logger = logging.getLogger(__name__)
router = APIRouter()


def on_scrape(hook: ScrapeHook) -> ScrapeHook:
    """Decorator: run `hook(resources)` before each /metrics response (errors are logged)."""
    if hook not in _SCRAPE_HOOKS:
        _SCRAPE_HOOKS.append(hook)
    return hook


@functools.cache
def _http_metrics() -> Callable[[Info], None]:
    """The instrumentator's default HTTP metrics, created once per process.

    Left to itself, the instrumentator creates them per app and silently instruments nothing when
    they already exist in the registry (a second app in one process: tests, reloads).
    """
    instrumentation = prometheus_fastapi_metrics.default(latency_lowr_buckets=LATENCY_BUCKETS)
    if instrumentation is None:
        raise RuntimeError("the HTTP metrics are already registered by something else")
    return instrumentation


def instrument(app: FastAPI) -> None:
    Instrumentator(
        should_group_status_codes=True,
        should_group_untemplated=True,
        excluded_handlers=EXCLUDED_HANDLERS,
    ).add(_http_metrics()).instrument(app)


def _check_token(request: Request, token: str | None) -> None:
    if token is None:
        return
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        raise Unauthorized("Scraping /metrics needs Authorization: Bearer METRICS_TOKEN.")


async def _database_up(resources: Resources) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure is "down"; /ready tells the reason
        return False
    return True


async def _cache_up(resources: Resources) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return await resources.cache.ping()
    except Exception:
        return False


async def probe_dependencies(resources: Resources) -> None:
    database, cache = await asyncio.gather(_database_up(resources), _cache_up(resources))
    dialect = resources.engine.dialect.name
    DEPENDENCY_UP.labels("database", "postgresql" if dialect == "postgresql" else dialect).set(
        database
    )
    DEPENDENCY_UP.labels("cache", resources.cache.name).set(cache)


def _registry() -> CollectorRegistry:
    # `assistant serve --workers N` with PROMETHEUS_MULTIPROC_DIR: merge every worker's files.
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return merged
    return REGISTRY


@router.get(METRICS_PATH, include_in_schema=False)
async def metrics(request: Request, resources: ResourcesDep) -> Response:
    _check_token(request, resources.settings.metrics_token)
    await probe_dependencies(resources)
    for hook in _SCRAPE_HOOKS:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await hook(resources)
        except Exception as exc:  # a broken gauge must not cost us the whole scrape
            logger.warning(
                "scrape hook failed", extra={"hook": hook.__qualname__, "error": type(exc).__name__}
            )
    BUILD_INFO.labels(__version__).set(1)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
