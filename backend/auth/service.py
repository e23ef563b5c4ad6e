"""API key lifecycle: random keys, shown once, stored as SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import ApiKey
from backend.db.base import utcnow

KEY_PREFIX = "wa_"
BOOTSTRAP_NAME = "bootstrap"
# Writing last_used_at on every request would make every read a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    id: int
    name: str
    rate_limit: str | None
    monthly_budget_usd: float | None


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(
    session: AsyncSession,
    name: str,
    raw_key: str | None = None,
    *,
    expires_in: timedelta | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the clear key (the only time it exists in clear)."""
    raw = raw_key or generate_key()
    expires_at = utcnow() + expires_in if expires_in is not None else None
    row = ApiKey(name=name, key_hash=hash_key(raw), prefix=raw[:10], expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row, raw


async def ensure_key(session: AsyncSession, name: str, raw_key: str) -> ApiKey:
    """Store a configured key (API_KEY) idempotently: same key, same row, across restarts."""
    digest = hash_key(raw_key)
    row = (await session.scalars(select(ApiKey).where(ApiKey.key_hash == digest))).first()
    if row is not None:
        return row
    try:
        # A savepoint: replicas starting together may race to insert the same key.
        async with session.begin_nested():
            row, _ = await create_key(session, name, raw_key)
        return row
    except IntegrityError:
        return (await session.scalars(select(ApiKey).where(ApiKey.key_hash == digest))).one()


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.id))).all())


async def revoke_key(session: AsyncSession, key_id: int) -> str | None:
    """Mark the key revoked; returns its hash (to tombstone caches), or None if unknown."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row.key_hash


async def set_limits(
    session: AsyncSession,
    key_id: int,
    *,
    rate_limit: str | Literal["keep"] | None = "keep",
    monthly_budget_usd: float | Literal["keep"] | None = "keep",
) -> str | None:
    """Change a key's own rate limit / monthly budget (None: back to the default / no budget).
    Returns the key's hash, so callers can drop cached copies; None if the key is unknown."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        return None
    if rate_limit != "keep":
        row.rate_limit = rate_limit
    if monthly_budget_usd != "keep":
        row.monthly_budget_usd = monthly_budget_usd
    return row.key_hash
