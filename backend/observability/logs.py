"""Structured logs: one JSON object per line on stdout, from structlog and from stdlib `logging`.

Every `logging.getLogger(__name__)` call in the code base comes out as JSON too (the stdlib records
go through structlog's `ProcessorFormatter`), with the request id of the request that logged it.

Privacy: values under secret-looking keys (keys, tokens, passwords, Authorization) are always
replaced, and strings that look like credentials (Bearer tokens, `sk-…` keys, Telegram bot tokens)
are masked anywhere in a line. User texts (text, prompt, result…) are replaced by their length
unless LOG_TEXTS=true.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor

from backend.core.config import Settings

REDACTED = "[redacted]"
# Keys whose string values are credentials, whatever LOG_TEXTS says.
_SECRET_KEY = re.compile(r"(api_?key|token|secret|password|passwd|authorization|cookie)", re.I)
# Keys whose values are user content (request texts, LLM prompts and answers).
TEXT_KEYS = frozenset(
    {
        "text",
        "texto",
        "input_text",
        "output",
        "output_text",
        "result",
        "resultado",
        "prompt",
        "messages",
        "content",
        "question",
        "answer",
        "summary",
        "translation",
        "body",
    }
)
# Credentials that may hide inside a message or an exception text.
_CREDENTIALS = re.compile(
    r"(?:Bearer\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{12,}"
    r"|\bbot\d{5,}:[A-Za-z0-9_-]{20,}"
    r"|\b\d{5,}:[A-Za-z0-9_-]{30,})"
)
_QUIET_LOGGERS = ("httpx", "httpcore", "openai", "asyncio", "aiosqlite", "alembic.runtime.plugins")


class _State:
    log_texts = False


def scrub(value: str) -> str:
    """Mask credentials inside free text."""
    return _CREDENTIALS.sub(REDACTED, value)


def _redact_value(key: str, value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value  # counts such as prompt_tokens are not secrets
    if _SECRET_KEY.search(key):
        return REDACTED
    if key.lower() in TEXT_KEYS and not _State.log_texts:
        return f"[{len(value)} chars]" if isinstance(value, str) else REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    return value


def redact(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the privacy rules of the module docstring."""
    for key in list(event_dict):
        if key in {"event", "exception"}:
            value = event_dict[key]
            if isinstance(value, str):
                event_dict[key] = scrub(value)
            continue
        event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


_FIRST_KEYS = ("ts", "level", "logger", "event", "request_id")


def leading_keys(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """The same few keys first on every line, so people can read the JSON too."""
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured copy of `event`
    ordered = {key: event_dict.pop(key) for key in _FIRST_KEYS if key in event_dict}
    ordered.update(event_dict)
    return ordered


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stdout` is at the time (test capture replaces it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]


def configure_logging(settings: Settings) -> None:
    """Idempotent: the API, the worker and the bot call it once at start (tests call it per app).

    Only our own handler on the root logger is replaced, so handlers others installed (pytest's
    log capture, for one) keep working.
    """
    _State.log_texts = settings.log_texts
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Records from stdlib loggers: their `extra={...}` fields become JSON keys.
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            leading_keys,
            renderer,
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    handler.set_name("assistant")

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "assistant"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn installs its own plain-text handlers; send its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Our access log (observability/middleware.py) replaces uvicorn's, which has no request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
