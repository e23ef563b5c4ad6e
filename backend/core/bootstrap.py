"""Start-up chores: make sure somebody can call the service."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import func, select

from backend.auth.models import ApiKey
from backend.auth.service import BOOTSTRAP_NAME, create_key, ensure_key
from backend.core.resources import Resources

logger = logging.getLogger(__name__)
FIRST_KEY_FILE = "api-key.txt"


async def ensure_api_access(resources: Resources) -> None:
    """Store API_KEY (hashed) if configured; with no key at all, create one for the first user.

    The generated key is written to a file readable only by its owner, never to the logs.
    """
    settings = resources.settings
    async with resources.sessionmaker() as session, session.begin():
        if settings.api_key:
            await ensure_key(session, BOOTSTRAP_NAME, settings.api_key)
            return
        active = await session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
        )
        if active:
            return
        _, raw = await create_key(session, BOOTSTRAP_NAME)
    path = _write_secret(settings.data_dir / FIRST_KEY_FILE, raw)
    logger.warning("no API key configured: created one and wrote it to %s", path)


def _write_secret(path: Path, value: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return path.resolve()
