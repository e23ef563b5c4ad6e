"""Delivers a finished job to its `callback_url`: signed, retried with backoff, every attempt noted.

The signature is `X-Assistant-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the
API key's callback secret (GET /v1/jobs/callback-secret), so a receiver can tell our callbacks from
anybody else's POSTs. Compare it in constant time (hmac.compare_digest) before trusting the body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from backend import __version__
from backend.core.config import Settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Assistant-Signature"
# Receivers that answer these are busy or briefly broken: worth another try. Other 4xx are final.
# 409: n8n answers it when the callback arrives before the execution reached its Wait node.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})

# Called after each attempt with (HTTP status or None, short error or None).
AttemptRecorder = Callable[[int | None, str | None], Awaitable[None]]


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (shown in docs/jobs.md); used by the tests."""
    return hmac.compare_digest(sign(secret, body), header)


class _TryAgain(Exception):
    pass


class CallbackSender:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        # No redirects: the receiver is exactly the URL the caller gave.
        self._client = client or httpx.AsyncClient(
            timeout=settings.jobs_callback_timeout,
            follow_redirects=False,
            headers={"User-Agent": f"workflow-assistant/{__version__}"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver(
        self, url: str, body: bytes, secret: str, job_id: uuid.UUID, record: AttemptRecorder
    ) -> bool:
        """POST until a 2xx, a final refusal, or the attempts run out. True when delivered."""
        settings = self._settings
        base = settings.jobs_callback_backoff
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            "X-Assistant-Job-Id": str(job_id),
        }
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.jobs_callback_attempts),
            wait=wait_exponential(multiplier=base, max=settings.jobs_callback_backoff_max)
            + wait_random(0, base / 4),
            retry=retry_if_exception_type(_TryAgain),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    status, error = await self._post(url, body, headers)
                    await record(status, error)
                    if status is not None and 200 <= status < 300:
                        return True
                    if status is None or status >= 500 or status in RETRYABLE_STATUS:
                        raise _TryAgain
                    return False
        except RetryError:
            pass
        logger.warning("callback not delivered", extra={"job_id": str(job_id)})
        return False

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # The exception's name says enough (ConnectError, ReadTimeout...); its text may
            # carry the URL, which can hold a token (n8n resume URLs do).
            return None, type(exc).__name__
        return response.status_code, None if response.is_success else f"HTTP {response.status_code}"
