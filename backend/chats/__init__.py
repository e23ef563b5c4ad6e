"""Per-chat modes: which task the next text of a chat goes to (API, compat endpoints and bot)."""
