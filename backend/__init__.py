"""Workflow Assistant: self-hosted AI text processing for n8n, Telegram and scripts."""

__version__ = "0.1.0"
