"""Splitting long texts: nothing lost, nothing reordered, every piece within budget."""

from __future__ import annotations

import pytest

from backend.llm.chunking import chunk_text, split_text
from backend.offline.tokens import estimate_tokens

TEXT = (
    "# Informe\n\nPrimer párrafo con dos frases. Aquí la segunda!\n\n"
    "- punto uno\n- punto dos\n\n"
    + "Un párrafo muy largo sin saltos de línea que sigue y sigue. " * 40
    + "\n\nhttps://example.com/"
    + "a" * 400
    + "\n\n日本語の段落です。" * 5
)


@pytest.mark.parametrize("budget", [1, 5, 20, 100, 1000, 100_000])
def test_pieces_rebuild_the_text_and_fit_the_budget(budget: int) -> None:
    pieces = split_text(TEXT, budget)
    assert "".join(pieces) == TEXT
    assert all(estimate_tokens(piece) <= budget for piece in pieces)
    assert len(pieces) == 1 if budget == 100_000 else len(pieces) > 1


def test_paragraphs_are_the_preferred_boundary() -> None:
    text = "Uno dos tres.\n\nCuatro cinco seis.\n\nSiete ocho nueve."
    pieces = split_text(text, estimate_tokens("Cuatro cinco seis.\n\n"))
    assert [p.strip() for p in pieces] == [
        "Uno dos tres.",
        "Cuatro cinco seis.",
        "Siete ocho nueve.",
    ]


def test_chunks_keep_whitespace_apart_from_the_body() -> None:
    chunks = chunk_text("Uno dos tres.\n\n  Cuatro cinco seis.\n", 8)
    assert (
        "".join(c.lead + c.body + c.trail for c in chunks)
        == "Uno dos tres.\n\n  Cuatro cinco seis.\n"
    )
    assert [c.body for c in chunks if c.body] == ["Uno dos tres.", "Cuatro cinco seis."]
