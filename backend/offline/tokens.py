"""A conservative token estimate, without a tokenizer.

tiktoken would be exact for OpenAI models, but it downloads its encodings at run time (this service
must work offline) and knows nothing of Ollama/vLLM models anyway. So we over-estimate on purpose:
BPE tokenizers average about 4 characters per token in English and 3.5 in Spanish, so one token per
3 characters of Latin script leaves headroom; other scripts (CJK, Cyrillic, Arabic...) often take
one token or more per character, so each of those characters counts as one token. Over-estimating
only makes chunks a little smaller; under-estimating would overflow the model's context.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 3
# Last code point of Latin Extended-B: Latin letters with any accent count as Latin.
LATIN_END = 0x024F


def estimate_tokens(text: str) -> int:
    other = sum(1 for ch in text if ord(ch) > LATIN_END and not ch.isspace())
    latin = len(text) - other
    return math.ceil(latin / CHARS_PER_TOKEN) + other
