"""Lexicon-based sentiment for Spanish and English, with negation, intensifiers and contrast.

Each polarity word adds its weight; a negator in the three tokens before it flips and dampens it
("no es bueno", "not good"); intensifiers scale it ("muy bueno"); after "pero"/"but" words count
1.5×. The sum is squashed into [-1, 1] as in VADER (x / sqrt(x² + 15)).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from backend.offline.sentiment_lexicon import CONTRASTS, EMOJI, INTENSIFIERS, LEXICON, NEGATORS
from backend.offline.text import fold

Label = Literal["positive", "neutral", "negative"]
NEGATION_SCOPE = 3
NEGATION_FACTOR = -0.75
CONTRAST_FACTOR = 1.5
NORMALIZATION_ALPHA = 15.0
NEUTRAL_BAND = 0.1

_TOKEN = re.compile(r"[\w']+|[.!?;,]")
_CLAUSE_END = frozenset(".!?;")


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    score: float
    positive: list[str]
    negative: list[str]


def label_for(score: float) -> Label:
    if score > NEUTRAL_BAND:
        return "positive"
    if score < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def score_sentiment(text: str) -> Sentiment:
    tokens = [fold(t) for t in _TOKEN.findall(text.replace("’", "'"))]
    total = 0.0
    positive: list[str] = []
    negative: list[str] = []
    negated_until = -1
    contrast = 1.0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _CLAUSE_END:
            negated_until, contrast = -1, 1.0
            index += 1
            continue
        if token == ",":  # "no es caro, es excelente": the negation stops at the comma
            negated_until, index = -1, index + 1
            continue
        pair = f"{token} {tokens[index + 1]}" if index + 1 < len(tokens) else ""
        if pair in {"sin embargo"}:
            contrast, index = CONTRAST_FACTOR, index + 2
            continue
        if token in CONTRASTS:
            contrast, negated_until = CONTRAST_FACTOR, -1
            index += 1
            continue
        if token in NEGATORS and pair not in LEXICON:
            negated_until = index + NEGATION_SCOPE
            index += 1
            continue
        word, weight, width = (pair, LEXICON[pair], 2) if pair in LEXICON else (token, 0.0, 1)
        if width == 1:
            weight = LEXICON.get(token, 0.0)
        if weight:
            previous = tokens[index - 1] if index else ""
            weight *= INTENSIFIERS.get(previous, 1.0) * contrast
            if index <= negated_until:
                weight *= NEGATION_FACTOR
            (positive if weight > 0 else negative).append(word)
            total += weight
        index += width
    total += sum(weight * text.count(mark) for mark, weight in EMOJI.items())
    score = total / math.sqrt(total * total + NORMALIZATION_ALPHA) if total else 0.0
    score = round(max(-1.0, min(1.0, score)), 3)
    return Sentiment(label_for(score), score, positive, negative)
