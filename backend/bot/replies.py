"""Long answers split into Telegram-sized messages on paragraph, then sentence, then word
boundaries; the typing indicator while a task runs."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.constants import ChatAction, MessageLimit
from telegram.error import TelegramError

MAX_MESSAGE = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
_SENTENCE_END = re.compile(r"(?<=[.!?…。])\s+")
_SPACE = re.compile(r"(?<=\s)")
# Telegram shows "typing…" for about five seconds per sendChatAction.
TYPING_REFRESH = 4.0


def units(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Pieces of at most `limit` units, cut at the largest boundary that fits."""
    text = text.strip()
    if units(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        pieces.extend(_split(paragraph.strip(), limit, level=0))
    return _pack([p for p in pieces if p], limit, "\n\n")


def _split(text: str, limit: int, level: int) -> list[str]:
    if units(text) <= limit:
        return [text]
    if level == 0:
        parts, joiner = _SENTENCE_END.split(text), " "
    elif level == 1:
        parts, joiner = [p for p in _SPACE.split(text) if p], ""
    else:
        return _hard_cut(text, limit)
    if len(parts) == 1:
        return _split(text, limit, level + 1)
    smaller = [piece for part in parts for piece in _split(part, limit, level + 1)]
    return _pack(smaller, limit, joiner)


def _pack(parts: list[str], limit: int, joiner: str) -> list[str]:
    """Greedily join consecutive parts while they fit."""
    packed: list[str] = []
    for part in parts:
        candidate = f"{packed[-1]}{joiner}{part}" if packed else part
        if packed and units(candidate) <= limit:
            packed[-1] = candidate
        else:
            packed.append(part)
    return [p.strip() for p in packed if p.strip()]


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces, current = [], ""
    for char in text:
        if units(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends (refreshed while it lasts)."""

    async def show() -> None:
        # A failed chat action must never fail the task it decorates.
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH)
            await show()

    await show()

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
