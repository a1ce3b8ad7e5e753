"""The tests' Telegram Bot API double, handing each message the bot sends to a chat to that
chat's simulated customer."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.doubles.telegram_api import TelegramApiDouble


class ReplyingDouble(TelegramApiDouble):
    def __init__(self) -> None:
        super().__init__(token=None)
        self.chats: dict[int, asyncio.Queue[str]] = {}

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, body = super()._send_message(params)
        if status == 200:
            self.chats[int(params["chat_id"])].put_nowait(str(params["text"]))
        self.calls.clear()  # the double's record of calls would grow for the whole run
        self.messages.clear()
        return status, body
