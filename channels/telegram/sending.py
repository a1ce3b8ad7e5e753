"""Replies as Telegram messages: plain text cut to Telegram's length, buttons as an inline
keyboard on the last part, sends paced per chat, and every Bot API error as DeliveryFailed.

Retries belong to the outbox (dialog/outbox.py): aiogram does not retry a send (only its own
polling does), so a message is retried by exactly one loop, which honours retry_after. The
parts of a long reply that went out before a failure are not sent again on the retry.

sendMessage is one JSON POST on aiogram's own HTTP session (its connections, its timeout),
not aiogram's method call: that builds the request as pydantic models and a form, and parses
the answer into a Message (a generic model created anew whenever the garbage collector
dropped it), about as much CPU as the whole turn, for an answer whose "ok" is all we read.
A failed answer still goes through aiogram's check_response, so it raises aiogram's errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiohttp import ClientError, ClientTimeout

from channels.telegram.pacing import ChatPacer
from channels.telegram.payloads import callback_data
from dialog.messages import Button, DeliveryFailed

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
_JSON = {"Content-Type": "application/json"}
# Errors that will not go away by retrying: blocked by the user, chat not found, bad token...
PERMANENT = (
    TelegramBadRequest, TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError,
    TelegramEntityTooLarge, TelegramMigrateToChat,
)
T = TypeVar("T")


class TelegramSender:
    """sendMessage for one reply (in parts when long). Replies to one chat come one at a time
    and in order from the outbox's worker of that conversation: no lock of our own."""

    def __init__(self, bot: Bot, pacer: ChatPacer | None = None) -> None:
        self._bot = bot
        self.pacer = pacer or ChatPacer()
        self._sent_parts: dict[int, int] = {}  # outbox id -> parts delivered before a failure
        session = bot.session
        if not isinstance(session, AiohttpSession):
            raise TypeError("the Telegram sender posts on aiogram's aiohttp session")
        self._session = session
        self._url = session.api.api_url(token=bot.token, method="sendMessage")

    async def deliver(
        self, outbox_id: int, chat_id: str, text: str, buttons: Sequence[Button]
    ) -> None:
        parts = split_text(text)
        markup = keyboard(buttons)
        try:
            for index in range(self._sent_parts.get(outbox_id, 0), len(parts)):
                await self.pacer.wait(chat_id)
                last = index == len(parts) - 1
                params: dict[str, Any] = {"chat_id": _chat(chat_id), "text": parts[index],
                                          "link_preview_options": {"is_disabled": True}}
                if last and markup is not None:
                    params["reply_markup"] = markup
                await call("sendMessage", self._send_message(params))
                self._sent_parts[outbox_id] = index + 1
        except DeliveryFailed as failure:
            if failure.permanent:
                self._sent_parts.pop(outbox_id, None)
            raise
        self._sent_parts.pop(outbox_id, None)

    async def _send_message(self, params: dict[str, Any]) -> None:
        """Raises what aiogram's own send_message raises for the same answer."""
        http = await self._session.create_session()
        try:
            async with http.post(self._url, data=json.dumps(params), headers=_JSON,
                                 timeout=ClientTimeout(total=self._session.timeout)) as response:
                status, content = response.status, await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(_method(params), "Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(_method(params),
                                       f"{type(error).__name__}: {error}") from error
        if status == 200 and _ok(content):
            return
        self._session.check_response(self._bot, _method(params), status, content)
        # A 2xx that says ok after all (check_response returned): sent.


def _ok(content: str) -> bool:
    try:
        answer = json.loads(content)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("ok") is True


def _method(params: dict[str, Any]) -> SendMessage:
    """The aiogram method these parameters are, for its errors (built only on a failure)."""
    return SendMessage.model_validate(params)


def keyboard(buttons: Sequence[Button]) -> dict[str, Any] | None:
    """An inline keyboard as the Bot API's JSON, one button a row. A payload over Telegram's
    64 bytes of callback_data is sent as a stand-in (channels/telegram/payloads.py), which a
    press turns back into the payload."""
    rows = [[{"text": button.title, "callback_data": callback_data(button.payload)}]
            for button in buttons]
    return {"inline_keyboard": rows} if rows else None


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Parts of at most `limit` UTF-16 units, cut at a line break or a space where possible."""
    parts: list[str] = []
    rest = text
    while _units(rest) > limit:
        fits = _fitting(rest, limit)
        window = rest[:fits]
        cut = window.rfind("\n", fits // 2)
        if cut <= 0:
            cut = window.rfind(" ", fits // 2)
        if cut <= 0:  # one long word: cut it where it must be cut
            parts.append(window)
            rest = rest[fits:]
        else:
            parts.append(window[:cut])
            rest = rest[cut + 1:]
    parts.append(rest)
    return [part for part in parts if part.strip()] or [text]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of text fit in `limit` UTF-16 units (an emoji takes two)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


async def call(method: str, request: Awaitable[T]) -> T:
    """Await a Bot API call; any failure becomes a DeliveryFailed that says what to do."""
    try:
        return await request
    except TelegramAPIError as error:
        raise failure(method, error) from None
    except ClientDecodeError:  # not a Bot API answer (a proxy's error page): try again later
        raise DeliveryFailed(f"telegram {method}: unreadable answer") from None
    except (TimeoutError, OSError) as error:
        raise DeliveryFailed(f"telegram {method}: {type(error).__name__}") from None


def failure(method: str, error: TelegramAPIError) -> DeliveryFailed:
    """Retry after Telegram's wait, retry with backoff, or give up."""
    if isinstance(error, TelegramRetryAfter):
        return DeliveryFailed(f"telegram {method}: flood control, retry after "
                              f"{error.retry_after}s", retry_after=float(error.retry_after))
    # error.message is Telegram's description ("Forbidden: bot was blocked by the user"); a
    # network error's names the host only. Neither holds the token or the message text.
    reason = f"telegram {method}: {type(error).__name__}: {_description(error)}"
    return DeliveryFailed(reason, permanent=isinstance(error, PERMANENT))


def _description(error: TelegramAPIError) -> str:
    message: Any = getattr(error, "message", "")
    return str(message).splitlines()[0][:200] if message else ""
