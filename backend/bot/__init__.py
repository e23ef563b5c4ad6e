"""The Telegram bot: python-telegram-bot on top of the same service layer as the API (in-process).

`assistant bot` runs it with long polling; with TELEGRAM_WEBHOOK_URL set, the API serves it at
`POST /telegram/webhook` instead. See docs/telegram.md.
"""
