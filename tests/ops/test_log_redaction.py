"""The privacy rules of the JSON logs, on the structlog processor itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.core.config import Settings
from backend.observability.logs import REDACTED, configure_logging, redact, scrub


@pytest.fixture
def log_texts_off() -> Iterator[None]:
    configure_logging(Settings(_env_file=None, log_texts=False))
    yield


def test_secret_keys_are_always_redacted_but_counts_stay(log_texts_off: None) -> None:
    event = redact(
        None,
        "info",
        {
            "event": "call",
            "api_key": "abc123abc123abc123",
            "openai_api_key": "sk-zzzz",
            "Authorization": "Bearer abc",
            "telegram_bot_token": "123:abc",
            "password": "hunter2",
            "prompt_tokens": 12,
            "key_id": 3,
            "endpoint": "api.openai.com",
        },
    )
    for key in ("api_key", "openai_api_key", "Authorization", "telegram_bot_token", "password"):
        assert event[key] == REDACTED
    assert event["prompt_tokens"] == 12 and event["key_id"] == 3
    assert event["endpoint"] == "api.openai.com"


def test_texts_become_their_length(log_texts_off: None) -> None:
    event = redact(None, "info", {"event": "x", "text": "hola", "result": {"summary": "s"}})
    assert event["text"] == "[4 chars]"
    assert event["result"] == REDACTED


def test_credentials_inside_messages_are_masked(log_texts_off: None) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    line = scrub(
        f"GET https://api.telegram.org/bot{token}/getMe with Bearer abcdefgh12345678 "
        "and sk-proj-abcdefghijklmnop"
    )
    assert token not in line and "abcdefgh12345678" not in line and "sk-proj" not in line
    assert line.count(REDACTED) == 3
    event = redact(None, "error", {"event": f"failed for bot{token}", "error": f"x {token}"})
    assert token not in event["event"] and token not in event["error"]


def test_log_texts_setting_allows_texts_only() -> None:
    configure_logging(Settings(_env_file=None, log_texts=True))
    try:
        event = redact(None, "info", {"event": "x", "text": "hola", "token": "t0k3n"})
        assert event["text"] == "hola"
        assert event["token"] == REDACTED
    finally:
        configure_logging(Settings(_env_file=None))
