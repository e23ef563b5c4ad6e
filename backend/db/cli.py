"""`assistant db …`: optimize (statistics, vacuum, partitions), backup and restore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from backend.core.config import load_settings
from backend.db import backup as backups
from backend.db.engine import create_engine
from backend.db.partitions import maintain, optimize

app = typer.Typer(help="Database upkeep: optimize, backup, restore.", no_args_is_help=True)


@app.command("optimize")
def optimize_command() -> None:
    """History partitions ahead + retention, then VACUUM (ANALYZE) (SQLite: ANALYZE, VACUUM)."""
    settings = load_settings()

    async def run() -> tuple[str, list[str]]:
        engine = create_engine(settings)
        try:
            report = await maintain(
                engine,
                ahead=settings.history_partitions_ahead,
                retention_days=settings.history_retention_days,
            )
            return report.summary(), await optimize(engine)
        finally:
            await engine.dispose()

    summary, statements = asyncio.run(run())
    typer.echo(summary)
    typer.echo("ran: " + "; ".join(statements))


@app.command("backup")
def backup_command(
    directory: Annotated[Path, typer.Option("--dir", help="Where backups go.")] = Path("backups"),
    keep_days: Annotated[
        int, typer.Option(help="Delete backups older than this many days (0: keep all).")
    ] = 7,
) -> None:
    """pg_dump | gzip into DIR/assistant-YYYYmmdd-HHMMSS.sql.gz (SQLite: a consistent copy)."""
    settings = load_settings()
    try:
        path = backups.backup(settings.effective_database_url, directory, keep_days=keep_days)
    except backups.BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(str(path))


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A file written by `assistant db backup`.")],
) -> None:
    """gunzip | psql into DATABASE_URL: replaces its public schema, in one transaction."""
    settings = load_settings()
    try:
        backups.restore(settings.effective_database_url, file)
    except backups.BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"restored {file}")
