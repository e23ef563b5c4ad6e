"""Extractive summaries by centrality (TextRank over a TF-IDF cosine-similarity graph)."""

from __future__ import annotations

import math
from collections import Counter

from backend.offline.text import STOPWORDS, fold, guess_stopword_language, split_sentences, tokenize

# Past this many sentences the O(n²) graph is built over the best candidates only.
MAX_GRAPH_SENTENCES = 200
DAMPING = 0.85
ITERATIONS = 30


def _vectors(sentences: list[str], stopwords: frozenset[str]) -> list[dict[str, float]]:
    bags = [
        Counter(fold(t) for t in tokenize(s) if fold(t) not in stopwords and len(t) > 2)
        for s in sentences
    ]
    document_frequency: Counter[str] = Counter()
    for bag in bags:
        document_frequency.update(bag.keys())
    total = len(bags)
    vectors = []
    for bag in bags:
        vector = {w: c * math.log(1 + total / document_frequency[w]) for w, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({w: v / norm for w, v in vector.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def _pagerank(vectors: list[dict[str, float]]) -> list[float]:
    n = len(vectors)
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            weights[i][j] = weights[j][i] = _cosine(vectors[i], vectors[j])
    out_sums = [sum(row) or 1.0 for row in weights]
    scores = [1.0 / n] * n
    for _ in range(ITERATIONS):
        scores = [
            (1 - DAMPING) / n
            + DAMPING * sum(weights[j][i] * scores[j] / out_sums[j] for j in range(n))
            for i in range(n)
        ]
    return scores


def summarize(text: str, max_sentences: int = 3, language: str | None = None) -> str:
    """The `max_sentences` most central sentences, in their original order."""
    sentences = split_sentences(text)
    if len(sentences) <= max_sentences:
        return " ".join(sentences) if sentences else text.strip()
    lang = language if language in STOPWORDS else guess_stopword_language(tokenize(text[:5000]))
    vectors = _vectors(sentences, STOPWORDS[lang or "es"])
    candidates = list(range(len(sentences)))
    if len(candidates) > MAX_GRAPH_SENTENCES:
        # Pre-select by how much of the document's vocabulary a sentence carries.
        centroid: Counter[str] = Counter()
        for vector in vectors:
            centroid.update(vector)
        candidates = sorted(candidates, key=lambda i: -_cosine(vectors[i], dict(centroid)))
        candidates = sorted(candidates[:MAX_GRAPH_SENTENCES])
    ranks = _pagerank([vectors[i] for i in candidates])
    # A small prior for early sentences: leads tend to carry the point.
    scored = [
        (rank * (1 + 0.15 / (1 + position)), index)
        for position, (rank, index) in enumerate(zip(ranks, candidates, strict=True))
    ]
    chosen = sorted(index for _, index in sorted(scored, reverse=True)[:max_sentences])
    return " ".join(sentences[i] for i in chosen)
