"""POST /telegram/webhook: only Telegram (who knows the secret) may deliver updates."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import deliver, webhook_settings
from tests.conftest import AppFactory, app_of
from tests.support.fake_telegram import FakeTelegram


async def test_wrong_or_missing_secret_is_refused(
    make_client: AppFactory, telegram: FakeTelegram
) -> None:
    async with make_client(**webhook_settings(telegram)) as client:
        for secret in ("wrong-secret-0123456789", None):
            response = await deliver(client, telegram.message_update("/help"), secret=secret)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "bad_webhook_secret"
        bad = await client.post(
            "/telegram/webhook",
            json={"no": "update"},
            headers={"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret-0123"},
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_update"
        # A right one afterwards is processed, so the refused ones really were dropped.
        assert (await deliver(client, telegram.message_update("/help"))).status_code == 200
        await telegram.wait_for("sendMessage", 1)
    assert len(telegram.calls_to("sendMessage")) == 1


async def test_webhook_disabled_without_settings(
    make_client: AppFactory, telegram: FakeTelegram
) -> None:
    async with make_client() as client:
        response = await deliver(client, telegram.message_update("/help"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "webhook_disabled"
        assert "/telegram/webhook" not in (await client.get("/openapi.json")).json()["paths"]
    assert telegram.calls == []


async def test_api_starts_while_telegram_is_unreachable_and_the_bot_joins_later(
    make_client: AppFactory,
) -> None:
    telegram = FakeTelegram().reserve()  # the port is taken but nothing answers yet
    try:
        async with make_client(**webhook_settings(telegram)) as client:
            assert (await client.get("/health")).status_code == 200
            refused = await deliver(client, telegram.message_update("/help"))
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "bot_starting"

            telegram.start()  # Telegram is back: the background retry registers the webhook
            await telegram.wait_for("setWebhook", within=30)
            bot = app_of(client).state.telegram
            await asyncio.wait_for(bot.ready.wait(), timeout=30)
            assert (await deliver(client, telegram.message_update("/help"))).status_code == 200
            await telegram.wait_for("sendMessage", 1)
    finally:
        telegram.stop()
