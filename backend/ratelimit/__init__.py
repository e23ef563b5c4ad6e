"""Per-API-key (and per-chat) rate limits with the `limits` library, shared through Redis."""
