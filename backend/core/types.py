"""Shared constrained types for request models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Stored as BIGINT; limited to integers JSON clients represent exactly (JavaScript's safe range,
# which n8n uses). Telegram chat ids need at most 52 bits.
SAFE_INT_MAX = 2**53 - 1

ChatId = Annotated[
    int,
    Field(
        ge=-SAFE_INT_MAX,
        le=SAFE_INT_MAX,
        description="Chat the text belongs to (e.g. a Telegram chat id).",
    ),
]

# A text must contain something besides white space; the pattern documents it in OpenAPI.
NON_BLANK = r"\S"
