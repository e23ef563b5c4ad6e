"""`POST /telegram/webhook`: where Telegram delivers updates in webhook mode.

Not an API-key route (Telegram cannot send one): the secret registered with setWebhook comes back
in `X-Telegram-Bot-Api-Secret-Token` and is compared in constant time. Hidden from the OpenAPI
schema: it is for Telegram, not for API clients.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from backend.bot.app import WebhookBot
from backend.core.errors import BadRequest, Forbidden, NotFound

router = APIRouter(tags=["telegram"], include_in_schema=False)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/telegram/webhook")
async def telegram_webhook(
    request: Request,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> dict[str, Any]:
    bot: WebhookBot | None = getattr(request.app.state, "telegram", None)
    if bot is None:
        raise NotFound("The Telegram webhook is not enabled.", code="webhook_disabled")
    expected = bot.resources.settings.telegram_webhook_secret or ""
    if not secret or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Forbidden("Wrong or missing webhook secret.", code="bad_webhook_secret")
    try:
        data = await request.json()
    except ValueError as exc:
        raise BadRequest("The body is not a JSON update.", code="invalid_update") from exc
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise BadRequest("The body is not a Telegram update.", code="invalid_update")
    try:
        await bot.feed(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("The body is not a Telegram update.", code="invalid_update") from exc
    return {"ok": True}
