"""The real python-telegram-bot Application, in webhook mode inside the API, against the fake Bot
API: commands, modes in the API's store, tasks through the TaskRunner, history."""

from __future__ import annotations

from backend.auth.service import create_key
from backend.bot.identity import BOT_KEY_NAME
from backend.core.config import Settings
from backend.db.engine import create_engine, create_sessionmaker
from tests.api.test_tasks import TEXT_ES, history_rows
from tests.bot.conftest import WEBHOOK_SECRET, WEBHOOK_URL, deliver, query, webhook_settings
from tests.conftest import AppFactory, Stack
from tests.support.fake_llm import FakeLLM
from tests.support.fake_telegram import FakeTelegram

CHAT = 1001
BOT_RAW_KEY = "wa_test-telegram-bot-key-0123456789"


async def seed_bot_key(stack: Stack) -> None:
    """Create the bot's key ourselves, so the test knows it in clear (as an n8n user would)."""
    engine = create_engine(Settings(_env_file=None, database_url=stack.database_url))
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await create_key(session, BOT_KEY_NAME, BOT_RAW_KEY)
    finally:
        await engine.dispose()


async def test_webhook_registered_on_start(make_client: AppFactory, telegram: FakeTelegram) -> None:
    async with make_client(**webhook_settings(telegram)):
        assert telegram.webhook == {"url": WEBHOOK_URL, "secret_token": WEBHOOK_SECRET}
        hook = telegram.calls_to("setWebhook")[0].params
        assert set(hook["allowed_updates"]) == {"message", "callback_query"}
        # The command menu is published, Spanish by default and English for English users.
        menus = telegram.calls_to("setMyCommands")
        assert len(menus) == 2
        assert "resumir" in str(menus[0].params["commands"])
        assert "summarize" in str(menus[1].params["commands"])


async def test_command_mode_text_result_and_history(
    make_client: AppFactory, telegram: FakeTelegram, fake_llm: FakeLLM, stack: Stack
) -> None:
    await seed_bot_key(stack)
    async with make_client(llm=fake_llm, **webhook_settings(telegram)) as client:
        response = await deliver(client, telegram.message_update("/resumir", CHAT))
        assert response.status_code == 200 and response.json() == {"ok": True}
        await telegram.wait_for("sendMessage", 1)
        assert telegram.sent_texts(CHAT) == ["¿Qué texto quieres resumir?"]

        # The mode lives in the API's store: /api/v1/estado with the bot's key sees it.
        estado = await client.post(
            "/api/v1/estado", json={"chat_id": CHAT}, headers={"x-api-key": BOT_RAW_KEY}
        )
        assert estado.json()["modo_actual"] == "resumir"

        await deliver(client, telegram.message_update(TEXT_ES, CHAT))
        await telegram.wait_for("sendMessage", 2)
        assert telegram.sent_texts(CHAT)[1].startswith("LLM summary: El ayuntamiento")
        typing = telegram.calls_to("sendChatAction")
        assert typing and typing[0].params["action"] == "typing"
        assert int(typing[0].params["chat_id"]) == CHAT
        assert fake_llm.calls == 1

        # The mode applied to that text only (as in the API): a new text gets help + keyboard.
        estado = await client.post(
            "/api/v1/estado", json={"chat_id": CHAT}, headers={"x-api-key": BOT_RAW_KEY}
        )
        assert estado.json()["modo_actual"] is None
        await deliver(client, telegram.message_update("otro texto", CHAT))
        calls = await telegram.wait_for("sendMessage", 3)
        assert "Elige un modo" in calls[2].params["text"]
        assert "inline_keyboard" in calls[2].params["reply_markup"]

        # History over the API, with the bot's key, shows the bot's request.
        history = await client.get(
            "/v1/history", params={"chat_id": CHAT}, headers={"x-api-key": BOT_RAW_KEY}
        )
        assert [item["task"] for item in history.json()["items"]] == ["summarize"]

    rows = await history_rows(stack)
    assert len(rows) == 1
    assert rows[0]["chat_id"] == CHAT and rows[0]["task"] == "summarize"
    assert rows[0]["input_text"] == TEXT_ES
    assert rows[0]["api_key_id"] == await bot_key_id(stack)


async def bot_key_id(stack: Stack) -> int:
    found = await query(stack, "SELECT id FROM api_keys WHERE name = ?", BOT_KEY_NAME)
    assert len(found) == 1, found
    return int(found[0][0])
