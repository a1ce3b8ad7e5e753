"""Answering button presses: every press stops its spinner, the first one on a message also
takes that message's keyboard away.

Telegram shows a spinner on a pressed button until the bot calls answerCallbackQuery, so an
answer that fails for a passing reason (flood control, a server error) is tried again, for a
few seconds: a query not answered by then is too old for Telegram anyway. The same press
delivered twice (Telegram retrying the webhook, even at the same moment) is recorded once and
answered once: its deliveries take turns, and the later ones see the outcome of the first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from channels.telegram.sending import call
from channels.telegram.updates import ButtonPress
from dialog.messages import DeliveryFailed

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10  # seconds for one answerCallbackQuery or editMessageReplyMarkup
ATTEMPTS = 4
FIRST_BACKOFF = 0.5  # seconds; doubled after each failure without a retry_after
MAX_WAIT = 10.0  # a longer retry_after outlasts the query: give up instead
_REMEMBERED = 10_000  # query ids kept to recognise a press delivered again
T = TypeVar("T")


class RecentPresses:
    """The outcome of recent presses by callback query id, one delivery of a press at a time.

    In one process: a press delivered to two processes is still recorded once (the inbox's
    unique key), the second process only answers it once more, which Telegram refuses.
    """

    def __init__(self) -> None:
        self._outcomes: OrderedDict[str, bool] = OrderedDict()  # query id -> recorded as new
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def first_delivery(self, query_id: str) -> bool:
        """Wait for an earlier delivery of this press to finish; False if it was handled."""
        while (pending := self._pending.get(query_id)) is not None:
            await asyncio.wait([pending])
        if query_id in self._outcomes:
            return False
        self._pending[query_id] = asyncio.get_running_loop().create_future()
        return True

    def done(self, query_id: str, accepted: bool | None) -> None:
        """The delivery begun by first_delivery() ended; None: it could not be recorded."""
        if accepted is not None:
            self._outcomes[query_id] = accepted
            while len(self._outcomes) > _REMEMBERED:
                self._outcomes.popitem(last=False)
        pending = self._pending.pop(query_id, None)
        if pending is not None:
            pending.set_result(None)


class PressAnswerer:
    def __init__(self, bot: Bot, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._bot = bot
        self._sleep = sleep

    async def acknowledge(self, press: ButtonPress, accepted: bool | None,
                          notice: str | None) -> None:
        """Stop the spinner (with `notice` as a toast); after a first press remove the
        message's keyboard, so that it cannot be pressed again."""
        await self.answer(press.query_id, notice)
        if accepted:
            await self._retrying("editMessageReplyMarkup", lambda: self._remove_keyboard(press))

    async def answer(self, query_id: str, notice: str | None = None) -> None:
        await self._retrying("answerCallbackQuery", lambda: self._bot.answer_callback_query(
            query_id, text=notice, request_timeout=REQUEST_TIMEOUT))

    def _remove_keyboard(self, press: ButtonPress) -> Awaitable[object]:
        return self._bot.edit_message_reply_markup(
            chat_id=press.chat_id, message_id=press.message_id,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[]),
            request_timeout=REQUEST_TIMEOUT,
        )

    async def _retrying(self, method: str, request: Callable[[], Awaitable[T]]) -> None:
        backoff = FIRST_BACKOFF
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await call(method, request())
                return
            except DeliveryFailed as failure:
                wait = failure.retry_after if failure.retry_after is not None else backoff
                if failure.permanent or attempt == ATTEMPTS or wait > MAX_WAIT:
                    # e.g. "query is too old" after a long outage: nothing more to do
                    log.info("telegram: %s given up: %s", method, failure)
                    return
                backoff *= 2
                await self._sleep(wait)
