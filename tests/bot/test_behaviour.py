"""Buttons, long replies, errors, allow-list, rate limit and groups, through the real Application
(webhook mode inside the API) and the fake Bot API."""

from __future__ import annotations

from tests.bot.conftest import deliver, stored_mode, webhook_settings
from tests.conftest import AppFactory, Stack
from tests.support.fake_llm import FakeLLM
from tests.support.fake_telegram import BOT_USER, FakeTelegram

CHAT = 1001
MENTION = "@" + str(BOT_USER["username"])


async def test_mode_buttons_answer_store_and_edit(
    make_client: AppFactory, telegram: FakeTelegram, fake_llm: FakeLLM, stack: Stack
) -> None:
    async with make_client(llm=fake_llm, **webhook_settings(telegram)) as client:
        await deliver(client, telegram.message_update("/start", CHAT))
        calls = await telegram.wait_for("sendMessage", 1)
        keyboard = calls[0].params["reply_markup"]["inline_keyboard"]
        buttons = {b["callback_data"]: b["text"] for row in keyboard for b in row}
        # One button per task in the registry, plus history and cancel.
        assert {"mode:summarize", "mode:translate", "mode:classify"} <= set(buttons)
        assert {"mode:history", "mode:clear"} <= set(buttons)
        assert buttons["mode:translate"] == "Traducir"
        assert "/traducir [idioma] <texto>" in calls[0].params["text"]

        await deliver(client, telegram.callback_update("mode:translate", CHAT))
        answers = await telegram.wait_for("answerCallbackQuery", 1)
        assert answers[0].params["text"] == "Modo: traducir"
        edits = await telegram.wait_for("editMessageText", 1)
        assert edits[0].params["text"] == "¿Qué texto quieres traducir?"
        assert await stored_mode(stack, CHAT) == "translate"

        await deliver(client, telegram.message_update("Hola mundo", CHAT))
        await telegram.wait_for("sendMessage", 2)
        assert telegram.sent_texts(CHAT)[-1] == "[en] Hola mundo"

        await deliver(client, telegram.callback_update("mode:clear", CHAT))
        await telegram.wait_for("editMessageText", 2)
        assert await stored_mode(stack, CHAT) is None

        await deliver(client, telegram.callback_update("mode:nonsense", CHAT))
        answers = await telegram.wait_for("answerCallbackQuery", 3)
        assert answers[2].params["text"] == "Ese botón ya no es válido."


async def test_commands_with_text_language_history_mode_and_cancel(
    make_client: AppFactory, telegram: FakeTelegram, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm, **webhook_settings(telegram)) as client:
        # Text after the command: processed at once; a leading language is the target.
        await deliver(client, telegram.message_update("/traducir fr Hola\nmundo", CHAT))
        await deliver(client, telegram.message_update("/translate good morning", CHAT))
        await deliver(client, telegram.message_update("/classify esto es urgente", CHAT))
        await telegram.wait_for("sendMessage", 3)
        assert telegram.sent_texts(CHAT) == ["[fr] Hola\nmundo", "[en] good morning", "urgent"]

        # A mode with its language waits for the next text.
        await deliver(client, telegram.message_update("/traducir alemán", CHAT))
        await deliver(client, telegram.message_update("/modo", CHAT))
        await deliver(client, telegram.message_update("Buenos días", CHAT))
        await telegram.wait_for("sendMessage", 6)
        texts = telegram.sent_texts(CHAT)
        assert texts[3] == "¿Qué texto quieres traducir? (al idioma «alemán»)"
        assert texts[4] == "Modo actual: traducir."
        assert texts[5] == "[de] Buenos días"

        # /cancelar clears a mode.
        await deliver(client, telegram.message_update("/resumir", CHAT))
        await deliver(client, telegram.message_update("/cancelar", CHAT))
        await deliver(client, telegram.message_update("/mode", CHAT, user_id=7))
        await telegram.wait_for("sendMessage", 9)
        assert telegram.sent_texts(CHAT)[7:9] == ["Modo cancelado.", "No hay ningún modo activo."]

        # /consultar: recent history of this chat; with a question, the matching records.
        await deliver(client, telegram.message_update("/consultar", CHAT))
        await deliver(client, telegram.message_update("/consultar mis traducciones", CHAT))
        await telegram.wait_for("sendMessage", 11)
        recent, translations = telegram.sent_texts(CHAT)[9:11]
        assert recent.startswith("Tu historial (4):") and "[clasificar] urgent" in recent
        assert translations.startswith("Tu historial (3):")
        assert "[clasificar]" not in translations and "[de] Buenos días" in translations

        # The history mode (button) reads the next text as a question.
        await deliver(client, telegram.callback_update("mode:history", CHAT))
        await deliver(client, telegram.message_update("la última clasificación", CHAT))
        await telegram.wait_for("sendMessage", 12)
        answer = telegram.sent_texts(CHAT)[11]
        assert answer.startswith("Tu historial (1):") and "urgent" in answer


async def test_english_users_get_english(make_client: AppFactory, telegram: FakeTelegram) -> None:
    async with make_client(**webhook_settings(telegram)) as client:
        update = telegram.message_update("/summarize", CHAT)
        update["message"]["from"]["language_code"] = "en"
        await deliver(client, update)
        await telegram.wait_for("sendMessage", 1)
        assert telegram.sent_texts(CHAT) == ["Send me the text to summarize."]


async def test_long_reply_is_split_on_boundaries(
    make_client: AppFactory, telegram: FakeTelegram, fake_llm: FakeLLM
) -> None:
    paragraph = " ".join(f"Frase número {i} del resumen largo." for i in range(110))
    long_answer = "\n\n".join([paragraph, paragraph, paragraph])
    assert len(long_answer) > 2 * 4096
    fake_llm.responder = lambda messages, body: long_answer
    async with make_client(llm=fake_llm, **webhook_settings(telegram)) as client:
        await deliver(client, telegram.message_update("/resumir Un texto cualquiera.", CHAT))
        calls = await telegram.wait_for("sendMessage", 3)
        await telegram.wait_for("sendMessage", 1)
    pieces = [c.params["text"] for c in calls]
    assert len(pieces) >= 3 and all(len(p) <= 4096 for p in pieces)
    # Cut at boundaries: every piece ends a sentence, and nothing is lost.
    assert all(p.endswith(".") for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == long_answer.replace(
        "\n", ""
    ).replace(" ", "")


async def test_llm_needed_but_absent_is_a_friendly_message(
    make_client: AppFactory, telegram: FakeTelegram, stack: Stack
) -> None:
    async with make_client(**webhook_settings(telegram)) as client:  # no LLM: offline engine
        await deliver(client, telegram.message_update("/traducir Hola mundo", CHAT))
        await deliver(client, telegram.message_update("/resumir Hola mundo. Adiós.", CHAT))
        await telegram.wait_for("sendMessage", 2)
    needs_llm, summary = telegram.sent_texts(CHAT)
    assert needs_llm.startswith("«traducir» necesita un modelo de IA")
    assert "/resumir" in needs_llm and "/clasificar" in needs_llm
    assert summary  # the offline engine answers summaries


async def test_llm_down_is_a_friendly_message_and_the_mode_stays(
    make_client: AppFactory, telegram: FakeTelegram, fake_llm: FakeLLM, stack: Stack
) -> None:
    fake_llm.fail(times=50, status=500)
    settings = webhook_settings(telegram, openai_max_retries=0)
    async with make_client(llm=fake_llm, **settings) as client:
        await deliver(client, telegram.message_update("/traducir", CHAT))
        await deliver(client, telegram.message_update("Hola mundo", CHAT))
        # A task with an offline engine answers degraded, and says so.
        await deliver(client, telegram.message_update("/resumir Hola mundo. Adiós.", CHAT))
        await telegram.wait_for("sendMessage", 3)
        # The failed text did not use up the mode: the user can send it again.
        assert await stored_mode(stack, CHAT) == "translate"
    _, failure, degraded = telegram.sent_texts(CHAT)
    assert failure == (
        "El servicio de IA no responde ahora mismo. Inténtalo de nuevo en unos minutos."
    )
    assert degraded.endswith("(Respuesta del motor sin conexión: el servicio de IA no respondía.)")


async def test_allow_list(make_client: AppFactory, telegram: FakeTelegram) -> None:
    async with make_client(**webhook_settings(telegram, telegram_allowed_chats=[CHAT])) as client:
        await deliver(client, telegram.message_update("/resumir Hola. Adiós.", 2002))
        await deliver(client, telegram.callback_update("mode:summarize", 2002))
        await deliver(client, telegram.message_update("/help", CHAT))
        await telegram.wait_for("sendMessage", 2)
        answers = await telegram.wait_for("answerCallbackQuery", 1)
    assert telegram.sent_texts(2002) == [
        "Lo siento, este bot es privado y este chat no tiene acceso."
    ]
    assert (
        answers[0].params["text"] == "Lo siento, este bot es privado y este chat no tiene acceso."
    )
    assert telegram.sent_texts(CHAT)[0].startswith("Hola, soy tu asistente")
    assert not telegram.calls_to("sendChatAction")  # nothing ran for the stranger


async def test_rate_limit_per_chat(make_client: AppFactory, telegram: FakeTelegram) -> None:
    async with make_client(**webhook_settings(telegram, telegram_rate_limit="2/minute")) as client:
        for _ in range(4):
            await deliver(client, telegram.message_update("/modo", CHAT))
        await deliver(client, telegram.message_update("/modo", 3003))  # another chat: own budget
        await telegram.wait_for("sendMessage", 4)
    mine = telegram.sent_texts(CHAT)
    assert mine[:2] == ["No hay ningún modo activo."] * 2
    # The third message is refused with a wait time; the fourth is dropped quietly.
    assert len(mine) == 3 and mine[2].startswith("Vas muy rápido: espera ")
    assert telegram.sent_texts(3003) == ["No hay ningún modo activo."]


async def test_groups_answer_only_commands_and_mentions(
    make_client: AppFactory, telegram: FakeTelegram
) -> None:
    group = -100123
    async with make_client(**webhook_settings(telegram)) as client:
        await deliver(client, telegram.message_update("hola a todos", group, chat_type="group"))
        await deliver(client, telegram.message_update("/otrobot", group, chat_type="group"))
        mention = f"{MENTION} hola"
        entities = [{"type": "mention", "offset": 0, "length": len(MENTION)}]
        await deliver(
            client,
            telegram.message_update(mention, group, chat_type="group", entities=entities),
        )
        await deliver(client, telegram.message_update("/resumir", group, chat_type="group"))
        await telegram.wait_for("sendMessage", 2)
    calls = telegram.calls_to("sendMessage")
    assert len(calls) == 2
    assert "Elige un modo" in calls[0].params["text"]  # the mention, with no mode set
    assert calls[1].params["text"] == "¿Qué texto quieres resumir?"
    # In groups the answer quotes the message it answers.
    assert "reply_parameters" in calls[0].params
