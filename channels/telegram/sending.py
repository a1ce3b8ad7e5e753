"""Replies as Telegram messages: plain text cut to Telegram's length, buttons as an inline
keyboard on the last part, sends paced per chat, and every Bot API error as DeliveryFailed.

Retries belong to the outbox (dialog/outbox.py): aiogram does not retry a send (only its own
polling does), so a message is retried by exactly one loop, which honours retry_after. The
parts of a long reply that went out before a failure are not sent again on the retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from channels.telegram.pacing import ChatPacer
from channels.telegram.payloads import callback_data
from dialog.messages import Button, DeliveryFailed

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
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

    async def deliver(
        self, outbox_id: int, chat_id: str, text: str, buttons: Sequence[Button]
    ) -> None:
        parts = split_text(text)
        markup = keyboard(buttons)
        try:
            for index in range(self._sent_parts.get(outbox_id, 0), len(parts)):
                await self.pacer.wait(chat_id)
                last = index == len(parts) - 1
                await call("sendMessage", self._bot.send_message(
                    chat_id=_chat(chat_id), text=parts[index],
                    reply_markup=markup if last else None, link_preview_options=NO_PREVIEW,
                ))
                self._sent_parts[outbox_id] = index + 1
        except DeliveryFailed as failure:
            if failure.permanent:
                self._sent_parts.pop(outbox_id, None)
            raise
        self._sent_parts.pop(outbox_id, None)


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button a row. A payload over Telegram's 64 bytes of callback_data is sent as a
    stand-in (channels/telegram/payloads.py), which a press turns back into the payload."""
    rows = [[InlineKeyboardButton(text=button.title, callback_data=callback_data(button.payload))]
            for button in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


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
