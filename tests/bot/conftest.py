"""Fixtures for the bot: the fake Bot API server, and settings that point the real
python-telegram-bot Application at it (webhook mode inside the API, or long polling)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Stack
from tests.support.fake_telegram import FakeTelegram

WEBHOOK_SECRET = "test-webhook-secret-0123"
WEBHOOK_URL = "https://bot.example/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def telegram(telegram_server: FakeTelegram) -> FakeTelegram:
    telegram_server.reset()
    return telegram_server


def webhook_settings(telegram: FakeTelegram, **extra: Any) -> dict[str, Any]:
    """make_client(**webhook_settings(telegram)): the API serves the bot at /telegram/webhook."""
    return {
        "telegram_bot_token": telegram.token,
        "telegram_api_base_url": telegram.bot_base_url,
        "telegram_webhook_url": WEBHOOK_URL,
        "telegram_webhook_secret": WEBHOOK_SECRET,
        **extra,
    }


async def deliver(
    client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    """What Telegram does in webhook mode: POST the update with the registered secret."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await client.post("/telegram/webhook", json=update, headers=headers)


async def query(stack: Stack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows from the stack's database (`?` placeholders), read directly: what is really stored."""
    if stack.database_url.startswith("sqlite"):
        with sqlite3.connect(stack.database_url.split(":///", 1)[1]) as db:
            return [tuple(row) for row in db.execute(sql, args)]
    numbered = sql
    for index in range(1, len(args) + 1):
        numbered = numbered.replace("?", f"${index}", 1)
    conn = await asyncpg.connect(stack.database_url.replace("+asyncpg", ""))
    try:
        return [tuple(row) for row in await conn.fetch(numbered, *args)]
    finally:
        await conn.close()


async def stored_mode(stack: Stack, chat_id: int) -> str | None:
    rows = await query(stack, "SELECT mode FROM chat_modes WHERE chat_id = ?", chat_id)
    return str(rows[0][0]) if rows else None
