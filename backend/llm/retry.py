"""Which upstream failures are worth another attempt, and how long to wait before it."""

from __future__ import annotations

import email.utils
import time

import openai
from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_exponential_jitter


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, connection errors, 429 and 5xx are transient; any other 4xx is our fault."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The upstream's Retry-After (seconds or an HTTP date), when it sent one."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    value = exc.response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class wait_retry_after_or_backoff(wait_base):
    """Honour Retry-After (capped at `maximum`), otherwise exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float, jitter: float) -> None:
        self._maximum = maximum
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum, jitter=jitter)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        hinted = retry_after_seconds(outcome.exception() if outcome else None)
        if hinted is not None:
            return min(hinted, self._maximum)
        return float(self._backoff(retry_state))
