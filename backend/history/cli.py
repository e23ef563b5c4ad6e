"""`assistant history …`: partition maintenance and the spool of records written while the
database was down."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from redis.asyncio import Redis

from backend.core.config import Settings, load_settings
from backend.db.engine import create_engine
from backend.db.partitions import maintain
from backend.history.recorder import HistoryRecorder

app = typer.Typer(help="History upkeep: partitions, retention, spool.", no_args_is_help=True)


@app.command("maintain")
def maintain_command(
    ahead: Annotated[
        int | None,
        typer.Option(help="Months of partitions ahead (default HISTORY_PARTITIONS_AHEAD)."),
    ] = None,
    retention_days: Annotated[
        int | None, typer.Option(help="Days to keep (default HISTORY_RETENTION_DAYS; 0: all).")
    ] = None,
) -> None:
    """Create monthly partitions ahead and drop the ones past retention (PostgreSQL)."""
    settings = load_settings()

    async def run() -> str:
        engine = create_engine(settings)
        try:
            report = await maintain(
                engine,
                ahead=settings.history_partitions_ahead if ahead is None else ahead,
                retention_days=(
                    settings.history_retention_days if retention_days is None else retention_days
                ),
            )
            return report.summary()
        finally:
            await engine.dispose()

    typer.echo(asyncio.run(run()))


async def _with_recorder(settings: Settings, replay: bool) -> tuple[dict[str, int | None], int]:
    engine = create_engine(settings)
    url = settings.effective_redis_url
    redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None
    try:
        recorder = HistoryRecorder.from_settings(settings, engine, redis)
        replayed = await recorder.replay() if replay else 0
        return await recorder.spool_depth(), replayed
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


@app.command("spool")
def spool_command(
    replay: Annotated[
        bool, typer.Option(help="Write the spooled records to the database now.")
    ] = False,
) -> None:
    """Show how many records wait in the spool (Redis stream, file); optionally replay them."""
    depths, replayed = asyncio.run(_with_recorder(load_settings(), replay))
    if replay:
        typer.echo(f"replayed {replayed} records")
    typer.echo(
        " ".join(f"{name}={'?' if depth is None else depth}" for name, depth in depths.items())
    )
