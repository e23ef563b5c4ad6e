"""Telegram handlers: commands, mode buttons and texts, all going to `BotService`.

Every handler goes through `guarded`: allow-list, per-chat rate limit, and errors turned into a
friendly message. In groups the bot only sees commands, replies to it and mentions of it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from backend.bot.commands import (
    CANCEL_COMMANDS,
    HELP_COMMANDS,
    HISTORY_COMMANDS,
    MODE_COMMANDS,
    takes_language,
    task_commands,
    task_label,
    usage_lines,
)
from backend.bot.failures import friendly_error
from backend.bot.keyboards import CLEAR, PREFIX, modes_keyboard, parse_callback
from backend.bot.replies import split_message, typing
from backend.bot.service import BotService
from backend.bot.texts import Lang, lang_of, say
from backend.compat.names import HISTORY_MODE, LANGUAGE_NAMES
from backend.core.config import Settings
from backend.core.errors import AppError
from backend.history.models import HistoryRecord
from backend.ratelimit.limiter import RateLimiter
from backend.tasks.base import Task

logger = logging.getLogger(__name__)

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
BotApplication = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]
Guarded = Callable[["BotHandlers", Update, Context, Lang], Awaitable[None]]
Callback = Callable[["BotHandlers", Update, Context], Coroutine[Any, Any, None]]

# Target languages a translation command accepts as its first word. Lowercase codes only, and
# not "el" (Greek), which is also the Spanish article: "/traducir el texto..." is a text.
LANGUAGE_CODES = frozenset(
    {"en", "es", "fr", "de", "it", "pt", "ca", "gl", "eu", "nl", "ru", "zh", "ja", "ko", "ar"}
    | {"pl", "sv", "tr", "uk", "ro", "da", "fi", "cs", "hu", "he", "hi"}
)
HISTORY_SNIPPET = 300
# A rate-limited chat hears about it at most this often (not once per message it floods).
NOTICE_RATE = "1/minute"


class AddressedToBot(filters.MessageFilter):
    """Private chats; in groups, replies to the bot and messages that mention it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot.id:
            return True
        return bool(_mention(message))


def _mention(message: Message) -> str | None:
    username = message.get_bot().username
    for text in message.parse_entities([MessageEntity.MENTION]).values():
        if username and text.lower() == f"@{username}".lower():
            return text
    return None


def command_payload(text: str) -> str:
    """What follows the command, with its line breaks (`/resumir@bot  text…` → `text…`)."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


def split_language(payload: str) -> tuple[str | None, str]:
    """(`fr`, `Hola`) from `fr Hola`; (None, payload) when the first word is not a language."""
    match = re.match(r"(\S+)\s*(.*)", payload, re.DOTALL)
    if match is None:
        return None, payload
    word, rest = match.group(1), match.group(2)
    if word in LANGUAGE_CODES or word.lower() in LANGUAGE_NAMES:
        return word, rest
    return None, payload


def guarded(handler: Guarded) -> Callback:
    @wraps(handler)
    async def wrapper(self: BotHandlers, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        lang = lang_of(update.effective_user)
        if not self.allowed(chat.id):
            await self.notify(update, say(lang, "not_allowed"))
            return
        if not await self.admit(update, chat.id, lang):
            return
        try:
            await handler(self, update, context, lang)
        except AppError as exc:
            await self.notify(update, friendly_error(exc, lang, self.service.registry))
        except TelegramError:
            raise  # the application's error handler logs it; there is no one to tell
        except Exception:
            logger.exception("bot handler failed", extra={"update_id": update.update_id})
            await self.notify(update, say(lang, "internal"))

    return wrapper


class BotHandlers:
    def __init__(self, service: BotService, limiter: RateLimiter, settings: Settings) -> None:
        self.service = service
        self.limiter = limiter
        self.settings = settings
        self.commands = task_commands(service.registry)
        self._allowed = frozenset(settings.telegram_allowed_chats)

    def install(self, app: BotApplication) -> None:
        private = filters.ChatType.PRIVATE
        app.add_handler(CommandHandler(HELP_COMMANDS, self.help))
        app.add_handler(CommandHandler(MODE_COMMANDS, self.mode))
        app.add_handler(CommandHandler(CANCEL_COMMANDS, self.cancel))
        app.add_handler(CommandHandler(HISTORY_COMMANDS, self.history))
        app.add_handler(CommandHandler(list(self.commands), self.task_command))
        app.add_handler(CallbackQueryHandler(self.button, pattern=f"^{re.escape(PREFIX)}"))
        app.add_handler(
            MessageHandler(filters.TEXT & ~filters.COMMAND & AddressedToBot(), self.text)
        )
        app.add_handler(MessageHandler(filters.COMMAND & private, self.unknown_command))
        app.add_handler(
            MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.not_text)
        )
        app.add_error_handler(self.on_error)

    # --- gates ------------------------------------------------------------------------------------
    def allowed(self, chat_id: int) -> bool:
        return not self._allowed or chat_id in self._allowed

    async def admit(self, update: Update, chat_id: int, lang: Lang) -> bool:
        rate = self.settings.telegram_rate_limit
        if rate is None:
            return True
        decision = await self.limiter.hit(f"telegram:{chat_id}", rate)
        if decision.allowed:
            return True
        notice = await self.limiter.hit(f"telegram-notice:{chat_id}", NOTICE_RATE)
        if notice.allowed or update.callback_query:
            seconds = max(1, math.ceil(decision.reset_after))
            await self.notify(update, say(lang, "rate_limited", seconds=seconds))
        return False

    # --- sending ----------------------------------------------------------------------------------
    async def notify(self, update: Update, text: str) -> None:
        """A short answer: a toast for a button, a message otherwise."""
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200])
            return
        await self.send(update, text)

    async def send(
        self, update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """The answer, split into Telegram-sized messages; the keyboard goes on the last one."""
        message = update.effective_message
        if message is None:
            return
        in_group = message.chat.type != ChatType.PRIVATE
        pieces = split_message(text) or ["…"]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await message.reply_text(
                piece, do_quote=in_group and index == 0, reply_markup=keyboard if last else None
            )

    def keyboard(self, lang: Lang) -> InlineKeyboardMarkup:
        return modes_keyboard(self.service.registry, lang)

    def mode_prompt(self, task: Task[Any, Any], lang: Lang, options: dict[str, Any]) -> str:
        prompt = say(lang, "mode_prompt", prompt=task.mode_prompt, title=task.name)
        if options.get("target_language"):
            prompt += say(lang, "target_language", code=options["target_language"])
        return prompt

    # --- commands ---------------------------------------------------------------------------------
    @guarded
    async def help(self, update: Update, context: Context, lang: Lang) -> None:
        commands = usage_lines(self.service.registry, lang)
        await self.send(update, say(lang, "help", commands=commands), self.keyboard(lang))

    @guarded
    async def mode(self, update: Update, context: Context, lang: Lang) -> None:
        chat_id = _chat_id(update)
        current = await self.service.get_mode(chat_id)
        if current is None:
            text = say(lang, "mode_none")
        else:
            task = self.service.registry.find(current)
            label = say(lang, "history_label") if current == HISTORY_MODE else current
            text = say(lang, "mode_current", mode=task_label(task, lang) if task else label)
        await self.send(update, text, self.keyboard(lang))

    @guarded
    async def cancel(self, update: Update, context: Context, lang: Lang) -> None:
        await self.service.clear_mode(_chat_id(update))
        await self.send(update, say(lang, "mode_cleared"))

    @guarded
    async def history(self, update: Update, context: Context, lang: Lang) -> None:
        question = command_payload(_text(update))
        await self.send(update, await self.history_answer(update, context, lang, question or None))

    @guarded
    async def task_command(self, update: Update, context: Context, lang: Lang) -> None:
        text = _text(update)
        command = text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()
        task = self.commands[command]
        payload = command_payload(text)
        options: dict[str, Any] = {}
        if takes_language(task):
            language, payload = split_language(payload)
            if language:
                options["target_language"] = language
        if payload:
            await self.send(update, await self.run(update, context, lang, task, payload, options))
            return
        await self.service.set_mode(_chat_id(update), task.name, options)
        await self.send(update, self.mode_prompt(task, lang, options))

    @guarded
    async def unknown_command(self, update: Update, context: Context, lang: Lang) -> None:
        await self.send(update, say(lang, "unknown_command"))

    @guarded
    async def not_text(self, update: Update, context: Context, lang: Lang) -> None:
        await self.send(update, say(lang, "text_only"))

    # --- buttons and texts ------------------------------------------------------------------------
    @guarded
    async def button(self, update: Update, context: Context, lang: Lang) -> None:
        query = update.callback_query
        assert query is not None  # CallbackQueryHandler only calls us with one
        chat_id = _chat_id(update)
        choice = parse_callback(query.data)
        task = self.service.registry.find(choice) if choice else None
        if choice == CLEAR:
            await self.service.clear_mode(chat_id)
            toast = prompt = say(lang, "mode_cleared")
        elif choice == HISTORY_MODE:
            await self.service.set_mode(chat_id, HISTORY_MODE)
            toast = say(lang, "mode_set", mode=say(lang, "history_label"))
            prompt = say(lang, "history_prompt")
        elif task is not None:
            await self.service.set_mode(chat_id, task.name)
            toast = say(lang, "mode_set", mode=task_label(task, lang))
            prompt = self.mode_prompt(task, lang, {})
        else:
            await query.answer(say(lang, "stale_button"))
            return
        await query.answer(toast)
        # Pressing the same button twice ("message is not modified") or on a message too old to
        # edit is not worth an error: the toast already confirmed the mode.
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(prompt)

    @guarded
    async def text(self, update: Update, context: Context, lang: Lang) -> None:
        message = update.effective_message
        assert message is not None  # a MessageHandler only calls us with one
        text = _text(update)
        if (mention := _mention(message)) is not None:
            text = text.replace(mention, " ").strip()
        if not text:
            await self.send(update, say(lang, "choose_mode"), self.keyboard(lang))
            return
        chat_id = _chat_id(update)
        mode, options = await self.service.mode_and_options(chat_id)
        task = self.service.registry.find(mode) if mode else None
        if mode == HISTORY_MODE:
            answer = await self.history_answer(update, context, lang, text)
        elif task is not None:
            answer = await self.run(update, context, lang, task, text, options)
        else:
            await self.send(update, say(lang, "no_mode"), self.keyboard(lang))
            return
        # As in the API, a mode applies to the next text only; after a failure it stays, so the
        # user can simply send the text again.
        await self.service.clear_mode(chat_id)
        await self.send(update, answer)

    # --- work -------------------------------------------------------------------------------------
    async def run(
        self,
        update: Update,
        context: Context,
        lang: Lang,
        task: Task[Any, Any],
        text: str,
        options: dict[str, Any],
    ) -> str:
        """The task's answer for the chat (with the "typing…" action while it runs)."""
        chat_id = _chat_id(update)
        async with typing(context.bot, chat_id):
            outcome = await self.service.run_task(task, text, chat_id, options)
        answer = outcome.output
        if outcome.degraded:
            answer += "\n\n" + say(lang, "degraded")
        return answer

    async def history_answer(
        self, update: Update, context: Context, lang: Lang, question: str | None
    ) -> str:
        chat_id = _chat_id(update)
        async with typing(context.bot, chat_id):
            rows = await self.service.history(chat_id, question)
        if not rows:
            return say(lang, "history_empty")
        lines = [say(lang, "history_header", count=len(rows))]
        lines += [self.history_line(row, lang) for row in rows]
        if question is None:
            lines += ["", say(lang, "history_hint")]
        return "\n".join(lines)

    def history_line(self, row: HistoryRecord, lang: Lang) -> str:
        task = self.service.registry.find(row.task)
        label = task_label(task, lang) if task else row.task
        output = " ".join(row.output_text.split())
        if len(output) > HISTORY_SNIPPET:
            output = output[: HISTORY_SNIPPET - 1] + "…"
        return f"• {row.created_at:%Y-%m-%d %H:%M} [{label}] {output}"

    async def on_error(self, update: object, context: Context) -> None:
        # Only the error's type: the update may carry a user's text.
        error = context.error
        logger.error(
            "telegram bot error: %s",
            type(error).__name__,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None  # `guarded` returns early without a chat
    return chat.id


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message else ""
