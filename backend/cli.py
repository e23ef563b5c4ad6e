"""`assistant`: serve, migrate and manage API keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import service as keys_service
from backend.auth.cache import KeyCache
from backend.auth.models import ApiKey
from backend.bot.cli import bot as telegram_bot
from backend.core.config import check_rate, load_settings
from backend.db import migrate as migrations
from backend.db.base import as_utc
from backend.db.cli import app as db_app
from backend.db.engine import create_engine, create_sessionmaker
from backend.history.cli import app as history_app
from backend.jobs.cli import worker as jobs_worker

app = typer.Typer(help="Workflow Assistant: self-hosted AI text processing.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(history_app, name="history")
app.command("worker")(jobs_worker)
app.command("bot")(telegram_bot)

T = TypeVar("T")


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction against the configured database."""

    async def runner() -> T:
        engine = create_engine(load_settings())
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


async def _tombstone(digest: str) -> None:
    """Replicas cache verified keys in Redis: mark this one revoked there too, at once."""
    await _with_key_cache(lambda cache: cache.revoke(digest))


async def _with_key_cache(change: Callable[[KeyCache], Awaitable[None]]) -> None:
    settings = load_settings()
    url = settings.effective_redis_url
    if url is None:
        return
    redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await change(KeyCache(redis, settings.redis_key_prefix))
    finally:
        await redis.aclose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start the HTTP API."""
    import uvicorn

    settings = load_settings()
    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,  # ours (observability/middleware.py) has the request id
    )


@app.command()
def migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations (PostgreSQL or SQLite)."""
    settings = load_settings()
    migrations.upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at revision {revision}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.0001, help="The key stops working after this many days.")
    ] = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    expires_in = timedelta(days=expires_in_days) if expires_in_days else None

    async def work(session: AsyncSession) -> str:
        row, raw = await keys_service.create_key(session, name, expires_in=expires_in)
        expiry = f" expires={row.expires_at:%Y-%m-%dT%H:%M:%SZ}" if row.expires_at else ""
        return f"id={row.id} name={row.name}{expiry}\n{raw}"

    typer.echo(_in_session(work))
    typer.echo("Store this key now: it cannot be shown again.", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never the keys themselves)."""

    async def work(session: AsyncSession) -> list[str]:
        rows = await keys_service.list_keys(session)
        return [
            f"{r.id}\t{r.name}\t{r.prefix}…\tcreated={r.created_at:%Y-%m-%d}\t"
            f"last_used={r.last_used_at or '-'}\t"
            f"{_status(r)}\t"
            f"rate_limit={r.rate_limit or 'default'}\t"
            f"budget={'-' if r.monthly_budget_usd is None else r.monthly_budget_usd}"
            for r in rows
        ]

    lines = _in_session(work)
    typer.echo("id\tname\tprefix\tcreated\tlast_used\tstatus\trate_limit\tbudget")
    for line in lines:
        typer.echo(line)


def _status(row: ApiKey) -> str:
    if row.revoked_at:
        return "revoked"
    if row.expires_at and as_utc(row.expires_at) <= datetime.now(UTC):
        return "expired"
    return f"active (expires {row.expires_at:%Y-%m-%d})" if row.expires_at else "active"


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `keys list`).")],
) -> None:
    """Revoke a key; it stops working at once."""

    async def work(session: AsyncSession) -> str | None:
        return await keys_service.revoke_key(session, key_id)

    digest = _in_session(work)
    if digest is None:
        typer.echo(f"no key with id {key_id}", err=True)
        raise typer.Exit(1)
    asyncio.run(_tombstone(digest))
    typer.echo(f"key {key_id} revoked")


async def _forget(digest: str) -> None:
    """Replicas cache verified keys with their limits: drop the entry so they re-read it."""
    await _with_key_cache(lambda cache: cache.forget(digest))


def _update_limits(key_id: int, **changes: str | float | None) -> None:
    async def work(session: AsyncSession) -> str | None:
        return await keys_service.set_limits(session, key_id, **changes)  # type: ignore[arg-type]

    digest = _in_session(work)
    if digest is None:
        typer.echo(f"no key with id {key_id}", err=True)
        raise typer.Exit(1)
    asyncio.run(_forget(digest))


OFF = {"off", "none", "default", ""}


@keys_app.command("set-limit")
def keys_set_limit(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `keys list`).")],
    rate: Annotated[
        str, typer.Argument(help="e.g. 100/minute or 10/second;1000/hour; off = default")
    ],
) -> None:
    """Give a key its own rate limit instead of RATE_LIMIT."""
    value = None if rate.strip().lower() in OFF else rate.strip()
    if value is not None:
        try:
            check_rate(value)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    _update_limits(key_id, rate_limit=value)
    typer.echo(f"key {key_id} rate limit: {value or 'default (RATE_LIMIT)'}")


@keys_app.command("set-budget")
def keys_set_budget(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `keys list`).")],
    usd: Annotated[str, typer.Argument(help="Monthly budget in USD, e.g. 20; off = none")],
) -> None:
    """Set a key's monthly budget; once spent, requests that need the LLM get 402."""
    value: float | None = None
    if usd.strip().lower() not in OFF:
        try:
            value = float(usd)
        except ValueError as exc:
            typer.echo(f"not an amount in USD: {usd!r}", err=True)
            raise typer.Exit(2) from exc
        if value < 0:
            typer.echo("the budget cannot be negative", err=True)
            raise typer.Exit(2)
    _update_limits(key_id, monthly_budget_usd=value)
    typer.echo(f"key {key_id} monthly budget: {'none' if value is None else f'${value:g}'}")
