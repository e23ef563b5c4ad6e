"""`assistant bot`: the Telegram bot by long polling (no public URL needed)."""

from __future__ import annotations

import asyncio
import signal

import typer

from backend.bot.app import run_polling
from backend.core.config import load_settings
from backend.observability.logs import configure_logging


def bot() -> None:
    """Run the Telegram bot (long polling). Needs TELEGRAM_BOT_TOKEN."""
    settings = load_settings()
    if not settings.telegram_bot_token:
        typer.echo("Set TELEGRAM_BOT_TOKEN (from @BotFather) first.", err=True)
        raise typer.Exit(2)
    if settings.telegram_webhook_url:
        typer.echo(
            "TELEGRAM_WEBHOOK_URL is set: the API serves the bot by webhook. Polling would "
            "remove that webhook; unset TELEGRAM_WEBHOOK_URL to use `assistant bot`.",
            err=True,
        )
        raise typer.Exit(2)

    configure_logging(settings)  # JSON logs, texts and tokens redacted, as for the API

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_polling(settings, stop)

    asyncio.run(main())
