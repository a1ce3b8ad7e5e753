"""POST /telegram/webhook: Telegram's secret checked, the body read as an Update, handed on.

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token. A request
without it (or with another) is refused with 403 before its body is even read. A body that is
not an update is a 400; anything else is answered 200 once it is durably recorded (or seen
to be of no interest), so that Telegram does not send it again. A failure to record answers
500, and Telegram retries: the retry of a recorded update is a replay.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiogram.types import Update
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    if not given or not expected:
        return False
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def read_update(body: bytes) -> Update | None:
    """The body as a Telegram Update, or None when it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Update.model_validate(data)
    except ValidationError:
        return None


def make_router(secret: str, receive: Callable[[Update], Awaitable[None]]) -> APIRouter:
    router = APIRouter(tags=["telegram"])

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return PlainTextResponse("wrong or missing secret token", status_code=403)
        update = read_update(await request.body())
        if update is None:
            return PlainTextResponse("the body is not a Telegram update", status_code=400)
        await receive(update)
        return JSONResponse({"ok": True})

    return router
