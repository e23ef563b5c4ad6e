"""The built-in offline engine: answers without an LLM (summaries, classification, language...).

Pure Python and deterministic, so it is also the last resort when every LLM endpoint fails.
"""
