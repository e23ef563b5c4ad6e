"""Splits long texts into pieces that fit the model's context, without losing a character.

`split_text` cuts at the largest boundary that works (paragraphs, then lines, then sentences, then
words, then characters) and packs neighbouring pieces together up to the budget. Joining the pieces
gives back the exact text, so a translation can keep the original paragraphs and their order.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from backend.offline.tokens import CHARS_PER_TOKEN, LATIN_END, estimate_tokens

# Boundaries from the largest to the smallest; a piece ends after its separator.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    re.compile(r"\n\s*"),  # lines
    re.compile(r"(?<=[.!?…;。！？])[\"'”’»)\]]*\s+"),  # sentences
    re.compile(r"\s+"),  # words
)
T = TypeVar("T")
R = TypeVar("R")

# Room kept for the instructions and the <text> wrapper around a chunk.
PROMPT_OVERHEAD_TOKENS = 200
# Role markers and wrappers around messages (a few tokens each in OpenAI's chat format).
CHAT_FORMAT_TOKENS = 32


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of the text: `lead` + `body` + `trail` is exactly the original substring."""

    lead: str
    body: str
    trail: str


def _cut(text: str, pattern: re.Pattern[str]) -> list[str]:
    pieces, start = [], 0
    for match in pattern.finditer(text):
        if match.end() > start and match.end() < len(text):
            pieces.append(text[start : match.end()])
            start = match.end()
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _hard_cut(text: str, max_tokens: int) -> list[str]:
    # A "word" longer than the budget (a URL, a base64 blob): cut it by characters.
    pieces, start, used = [], 0, 0
    for index, ch in enumerate(text):
        # In thirds of a token, to stay integral (see backend/offline/tokens.py).
        cost = 1 if ord(ch) <= LATIN_END or ch.isspace() else CHARS_PER_TOKEN
        if index > start and used + cost > max_tokens * CHARS_PER_TOKEN:
            pieces.append(text[start:index])
            start, used = index, 0
        used += cost
    pieces.append(text[start:])
    return pieces


def _split(text: str, max_tokens: int, level: int) -> list[str]:
    if estimate_tokens(text) <= max_tokens:
        return [text]
    if level >= len(_BOUNDARIES):
        return _hard_cut(text, max_tokens)
    pieces: list[str] = []
    for piece in _cut(text, _BOUNDARIES[level]):
        pieces.extend(_split(piece, max_tokens, level + 1))
    # Pack neighbours back together while they fit. Summing the pieces' estimates over-counts
    # a little (each rounds up), which keeps packing linear and the result within budget.
    packed: list[str] = []
    sizes: list[int] = []
    for piece in pieces:
        size = estimate_tokens(piece)
        if packed and sizes[-1] + size <= max_tokens:
            packed[-1] += piece
            sizes[-1] += size
        else:
            packed.append(piece)
            sizes.append(size)
    return packed


def split_text(text: str, max_tokens: int) -> list[str]:
    """Pieces of at most `max_tokens` (estimated) whose concatenation is `text`."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    return _split(text, max_tokens, 0) if text else []


def chunk_text(text: str, max_tokens: int) -> list[Chunk]:
    """Like `split_text`, with each piece's surrounding whitespace kept apart from its body."""
    chunks = []
    for piece in split_text(text, max_tokens):
        body = piece.strip()
        start = piece.find(body) if body else len(piece)
        chunks.append(Chunk(piece[:start], body, piece[start + len(body) :]))
    return chunks


def input_budget(context_tokens: int, output_tokens: int) -> int:
    """Tokens of text one call may carry when the answer needs `output_tokens`."""
    return max(32, context_tokens - PROMPT_OVERHEAD_TOKENS - output_tokens)


def text_budget(context_tokens: int, output_tokens: int, *fixed: str) -> int:
    """Like `input_budget`, for calls whose fixed parts (instructions, a JSON schema) are known:
    their estimate replaces the flat overhead, plus a margin for the chat format."""
    used = sum(estimate_tokens(part) for part in fixed) + CHAT_FORMAT_TOKENS
    return max(32, context_tokens - output_tokens - used)


async def map_limited(
    items: Sequence[T], work: Callable[[int, T], Awaitable[R]], concurrency: int
) -> list[R]:
    """`work(index, item)` for every item, at most `concurrency` at once, results in order."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int, item: T) -> R:
        async with gate:
            return await work(index, item)

    running = [asyncio.ensure_future(one(i, item)) for i, item in enumerate(items)]
    try:
        return list(await asyncio.gather(*running))
    except BaseException:
        # One chunk failed: the answer is lost anyway, so stop spending calls on the others.
        for task in running:
            task.cancel()
        raise
