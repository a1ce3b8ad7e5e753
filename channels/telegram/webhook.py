"""POST /telegram/webhook: Telegram's secret checked, the body read as an Update, handed on.

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token. A request
without it (or with another) is refused with 403 before its body is even read. A body over
MAX_UPDATE_BYTES is a 413 (read no further than that); a body that is not an update is a 400;
anything else is answered 200 once it is durably recorded (or seen
to be of no interest), so that Telegram does not send it again. A failure to record answers
503 (the database unavailable, http_guards/unavailable.py) or 500, and Telegram retries: the retry
of a recorded update is a replay.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiogram.types import Update
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from http_guards.bodies import read_body

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A real update is a few kB (4,096 characters of text, the message replied to, a keyboard):
# a megabyte leaves room for everything Telegram sends and stops a flood of memory.
MAX_UPDATE_BYTES = 1024 * 1024


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    if not given or not expected:
        return False
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def read_update(body: bytes) -> Update | None:
    """The body as a Telegram Update, or None when it is not one (not UTF-8, not JSON, not
    an object, or not shaped like an update: pydantic says so for all of them)."""
    try:
        return Update.model_validate_json(body)
    except ValidationError:
        return None


def make_router(secret: str, receive: Callable[[Update], Awaitable[None]]) -> APIRouter:
    router = APIRouter(tags=["telegram"])

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return PlainTextResponse("wrong or missing secret token", status_code=403)
        body = await read_body(request, MAX_UPDATE_BYTES)
        if body is None:
            return PlainTextResponse(f"an update is at most {MAX_UPDATE_BYTES} bytes",
                                     status_code=413)
        update = read_update(body)
        if update is None:
            return PlainTextResponse("the body is not a Telegram update", status_code=400)
        await receive(update)
        return JSONResponse({"ok": True})

    return router
