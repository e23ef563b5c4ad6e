"""The bot's identity: an API key row named `telegram-bot`, created on first start.

History and chat modes are scoped by API key, so everything the bot does belongs to this key. The
bot never needs the key in clear; whoever wants to read the bot's chats over HTTP (n8n, scripts)
creates the key first with `assistant keys create --name telegram-bot` and uses the printed key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import ApiKey
from backend.auth.service import create_key

BOT_KEY_NAME = "telegram-bot"


async def ensure_bot_key(session: AsyncSession) -> ApiKey:
    """The oldest active `telegram-bot` key, created if there is none.

    The oldest wins so that replicas starting together agree on one key even if each created one.
    """
    stmt = (
        select(ApiKey)
        .where(ApiKey.name == BOT_KEY_NAME, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id)
        .limit(1)
    )
    existing = (await session.scalars(stmt)).first()
    if existing is not None:
        return existing
    row, _ = await create_key(session, BOT_KEY_NAME)  # the clear key is dropped on purpose
    return row
