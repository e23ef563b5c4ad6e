"""Test helpers: real servers on loopback for the two things we cannot reach (LLM, Telegram)."""
