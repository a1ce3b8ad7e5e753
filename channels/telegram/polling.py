"""Long polling: getUpdates in a loop, each update handed on before it is confirmed.

Telegram forgets an update once a later getUpdates asks from a higher offset, so the offset
moves past an update only after it was handed on (recorded in the inbox). When that fails,
or Telegram cannot be reached, the loop backs off and asks again from the same offset.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import Update

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLL_SECONDS = 25  # how long Telegram holds a getUpdates open when there is nothing new
MAX_BACKOFF_SECONDS = 30.0


class UpdatePoller:
    def __init__(
        self,
        bot: Bot,
        receive: Callable[[Update], Awaitable[None]],
        poll_seconds: int = POLL_SECONDS,
    ) -> None:
        self._bot = bot
        self._receive = receive
        self._poll_seconds = poll_seconds
        self._offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled."""
        backoff = 1.0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self._offset,
                    timeout=self._poll_seconds,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self._poll_seconds + 10,
                )
                for update in updates:
                    await self._receive(update)
                    self._offset = update.update_id + 1
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
                continue
            except Exception as error:
                _warn(error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0


def _warn(error: Exception) -> None:
    if isinstance(error, TelegramConflictError):
        log.warning("telegram: getUpdates refused: a webhook is set or another process polls "
                    "with this token")
    elif isinstance(error, TelegramUnauthorizedError):
        log.warning("telegram: getUpdates refused: check telegram.token")
    elif isinstance(error, (TelegramAPIError, ClientDecodeError, OSError, TimeoutError)):
        log.warning("telegram: getUpdates failed (%s), polling again shortly",
                    type(error).__name__)
    else:  # recording an update failed (database down...): it is asked for again
        log.exception("telegram: an update could not be handled; asking for it again")
