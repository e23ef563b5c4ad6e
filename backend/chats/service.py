"""Per-chat modes. Services use the request's session and never commit."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.chats.models import ChatMode
from backend.db.base import utcnow


async def get_mode(session: AsyncSession, api_key_id: int, chat_id: int) -> str | None:
    stmt = select(ChatMode.mode).where(
        ChatMode.api_key_id == api_key_id, ChatMode.chat_id == chat_id
    )
    return (await session.scalars(stmt)).first()


async def set_mode(session: AsyncSession, api_key_id: int, chat_id: int, mode: str) -> None:
    existing = await session.get(ChatMode, (api_key_id, chat_id))
    if existing is None:
        session.add(ChatMode(api_key_id=api_key_id, chat_id=chat_id, mode=mode))
    else:
        existing.mode = mode
        existing.updated_at = utcnow()
    await session.flush()


async def clear_mode(session: AsyncSession, api_key_id: int, chat_id: int) -> bool:
    result = await session.execute(
        delete(ChatMode).where(ChatMode.api_key_id == api_key_id, ChatMode.chat_id == chat_id)
    )
    return bool(getattr(result, "rowcount", 0))
