"""`assistant bot`: the real Application by long polling (getUpdates) against the fake Bot API."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from backend.bot.app import run_polling
from backend.cli import app as cli
from backend.core.resources import Resources
from tests.api.test_tasks import TEXT_ES
from tests.bot.conftest import query
from tests.conftest import AppFactory, Stack, app_of
from tests.support.fake_telegram import FakeTelegram

CHAT = 4242


async def test_polling_serves_commands_and_texts(
    make_client: AppFactory, telegram: FakeTelegram, stack: Stack
) -> None:
    # The API app only prepares the database (and cleans it afterwards); the bot is separate.
    async with make_client() as client:
        resources: Resources = app_of(client).state.resources
        settings = resources.settings.model_copy(
            update={
                "telegram_bot_token": telegram.token,
                "telegram_api_base_url": telegram.bot_base_url,
            }
        )
        telegram.webhook.update({"url": "https://old.example/hook"})
        stop = asyncio.Event()
        polling = asyncio.create_task(run_polling(settings, stop))
        try:
            telegram.queue(telegram.message_update("/resumir", CHAT))
            await telegram.wait_for("sendMessage", 1, within=30)
            telegram.queue(telegram.message_update(TEXT_ES, CHAT))
            await telegram.wait_for("sendMessage", 2, within=30)
        finally:
            stop.set()
            await polling

    assert telegram.calls_to("deleteWebhook")  # polling replaces any webhook
    assert telegram.webhook == {}
    first, summary = telegram.sent_texts(CHAT)
    assert first == "¿Qué texto quieres resumir?"
    assert summary and summary in TEXT_ES  # the offline engine picks sentences of the text
    rows = await query(stack, "SELECT task, chat_id FROM history")
    assert rows == [("summarize", CHAT)]


def test_cli_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    result = CliRunner().invoke(cli, ["bot"])
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN" in result.output
