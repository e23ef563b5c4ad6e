"""Verifies a presented API key: Redis cache first (when configured), then the database."""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.auth.cache import REVOKED, CachedKey, KeyCache
from backend.auth.models import ApiKey
from backend.auth.service import LAST_USED_RESOLUTION, AuthenticatedKey, hash_key
from backend.db.base import as_utc, utcnow


class Authenticator:
    """One per process (built in the lifespan), so it can remember recent last-used writes."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis | None, prefix: str
    ) -> None:
        self._sessionmaker = sessionmaker
        self._cache = KeyCache(redis, prefix)
        self._touched: dict[int, float] = {}  # key id → monotonic time of our last check

    async def verify(self, raw_key: str) -> AuthenticatedKey | None:
        digest = hash_key(raw_key)
        cached = await self._cache.get(digest)
        if cached == REVOKED:
            return None
        if isinstance(cached, CachedKey):
            if cached.expires_at is not None and cached.expires_at <= time.time():
                return None
            key = AuthenticatedKey(
                cached.id, cached.name, cached.rate_limit, cached.monthly_budget_usd
            )
        else:
            found = await self._from_database(digest)
            if found is None:
                return None
            key = found
        if await self._due_for_touch(key.id):
            await self._touch(key.id)
        return key

    async def _due_for_touch(self, key_id: int) -> bool:
        """At most one last_used_at write per key and minute: checked here first (no I/O),
        then across replicas through Redis."""
        resolution = LAST_USED_RESOLUTION.total_seconds()
        now = time.monotonic()
        if now - self._touched.get(key_id, -resolution) < resolution:
            return False
        self._touched[key_id] = now
        return await self._cache.first_use_in(key_id, int(resolution))

    async def _from_database(self, digest: str) -> AuthenticatedKey | None:
        async with self._sessionmaker() as session:
            row = (await session.scalars(select(ApiKey).where(ApiKey.key_hash == digest))).first()
        # The lookup is by digest; comparing again in constant time keeps timing flat.
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        if row.revoked_at is not None:
            await self._cache.revoke(digest)
            return None
        expires_at = as_utc(row.expires_at) if row.expires_at else None
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        await self._cache.put(
            digest,
            CachedKey(
                row.id,
                row.name,
                row.rate_limit,
                row.monthly_budget_usd,
                expires_at.timestamp() if expires_at else None,
            ),
        )
        return AuthenticatedKey(row.id, row.name, row.rate_limit, row.monthly_budget_usd)

    async def _touch(self, key_id: int) -> None:
        # Its own short transaction, never the request's: SQLite has one writer at a time.
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where(
                    (ApiKey.last_used_at.is_(None))
                    | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION)
                )
                .values(last_used_at=now)
            )

    async def revoke(self, digest: str) -> None:
        await self._cache.revoke(digest)

    async def forget(self, digest: str) -> None:
        await self._cache.forget(digest)
