"""Idempotency-Key: a repeated request replays the stored response instead of running again."""
