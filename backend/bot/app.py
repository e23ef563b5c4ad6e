"""Builds the python-telegram-bot Application on top of the service's resources, and runs it:
long polling (`assistant bot`) or webhook mode inside the API's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from telegram import Update
from telegram.constants import UpdateType
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ApplicationBuilder, BaseUpdateProcessor

from backend.bot.commands import menu
from backend.bot.handlers import BotApplication, BotHandlers
from backend.bot.identity import ensure_bot_key
from backend.bot.service import BotService
from backend.core.config import Settings
from backend.core.errors import ServiceUnavailable
from backend.core.resources import Resources
from backend.offline.language import warm_up
from backend.tasks.registry import TaskRegistry

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [UpdateType.MESSAGE, UpdateType.CALLBACK_QUERY]
# Chats processed at the same time (each chat's own updates still go one after another).
MAX_CONCURRENT_UPDATES = 32
# Seconds one getUpdates call waits for news (long polling).
POLL_TIMEOUT = 30
# Webhook mode, Telegram unreachable at start-up: retry in the background, up to this far apart.
RETRY_MAX_DELAY = 60.0


class PerChatProcessor(BaseUpdateProcessor):
    """Different chats run concurrently; one chat's updates run in order, so a mode chosen with a
    button is stored before the text that follows it is read."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            # Forget idle chats so the table does not grow with every chat ever seen.
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def open_bot(resources: Resources, *, polling: bool) -> BotApplication:
    """The bot's Application, initialized (getMe) and started; `close_bot` undoes it."""
    settings = resources.settings
    if not settings.telegram_bot_token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    async with resources.sessionmaker() as session, session.begin():
        key = await ensure_bot_key(session)
    service = BotService(resources, key.id, budget_usd=key.monthly_budget_usd)
    # The service's shared limiter (Redis across replicas), per chat: see BotHandlers.admit.
    handlers = BotHandlers(service, resources.limiter, settings)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .job_queue(None)
        .concurrent_updates(PerChatProcessor(MAX_CONCURRENT_UPDATES))
    )
    if not polling:
        builder = builder.updater(None)  # updates come from POST /telegram/webhook
    application = builder.build()
    handlers.install(application)
    await application.initialize()
    try:
        await _publish_commands(application, resources.registry)
        await application.start()
    except BaseException:
        await application.shutdown()
        raise
    return application


async def _publish_commands(application: BotApplication, registry: TaskRegistry) -> None:
    """The command menu (Spanish by default, English for English-speaking users). Optional."""
    try:
        await application.bot.set_my_commands(menu(registry, "es"))
        await application.bot.set_my_commands(menu(registry, "en"), language_code="en")
    except TelegramError as exc:
        logger.warning("could not publish the bot's commands: %s", type(exc).__name__)


async def close_bot(application: BotApplication) -> None:
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


# --- long polling (`assistant bot`) ---------------------------------------------------------------
async def run_polling(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the bot by long polling until `stop` is set."""
    resources = await Resources.open(settings, TaskRegistry.discover())
    try:
        warm_up()
        application = await open_bot(resources, polling=True)
        try:
            assert application.updater is not None  # built with one when polling
            # Polling and a webhook exclude each other: PTB deletes the webhook first.
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=POLL_TIMEOUT
            )
            logger.info("telegram bot polling")
            await stop.wait()
        finally:
            await close_bot(application)
    finally:
        await resources.close()


# --- webhook mode (inside the API) ----------------------------------------------------------------
class WebhookBot:
    """The bot of the API process: registers the webhook and takes the updates it receives."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.application: BotApplication | None = None
        self.ready = asyncio.Event()  # set once the webhook is registered
        self._retry: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # The API must come up even when Telegram is unreachable: the bot joins when it answers.
        try:
            await self._open()
        except InvalidToken:
            logger.error("TELEGRAM_BOT_TOKEN was refused by Telegram; the bot is off")
        except TelegramError as exc:
            logger.warning("telegram unreachable (%s); retrying in background", type(exc).__name__)
            self._retry = asyncio.create_task(self._keep_trying())

    async def _open(self) -> None:
        settings = self.resources.settings
        application = await open_bot(self.resources, polling=False)
        try:
            await application.bot.set_webhook(
                url=str(settings.telegram_webhook_url),
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        except BaseException:
            await close_bot(application)
            raise
        self.application = application
        self.ready.set()
        logger.info("telegram webhook registered")

    async def _keep_trying(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._open()
                return
            except InvalidToken:
                logger.error("TELEGRAM_BOT_TOKEN was refused by Telegram; the bot is off")
                return
            except TelegramError as exc:
                logger.warning("telegram still unreachable (%s)", type(exc).__name__)
                delay = min(delay * 2, RETRY_MAX_DELAY)

    async def feed(self, data: object) -> None:
        """Queue one update posted to the webhook; the Application processes it."""
        application = self.application
        if application is None:
            # Telegram retries deliveries that fail, so nothing is lost while the bot starts.
            raise ServiceUnavailable("The Telegram bot is not running yet.", code="bot_starting")
        update = Update.de_json(data if isinstance(data, dict) else {}, application.bot)
        await application.update_queue.put(update)

    async def stop(self) -> None:
        # The webhook stays registered: another replica, or this one restarted, keeps serving it.
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
        if self.application is not None:
            await close_bot(self.application)
            self.application = None


@asynccontextmanager
async def telegram_webhook(app: FastAPI, resources: Resources) -> AsyncIterator[None]:
    """Lifespan part: with TELEGRAM_WEBHOOK_URL set, the bot runs inside the API."""
    if not resources.settings.telegram_webhook_mode:
        app.state.telegram = None
        yield
        return
    bot = WebhookBot(resources)
    app.state.telegram = bot
    await bot.start()
    try:
        yield
    finally:
        await bot.stop()
        app.state.telegram = None
