"""The tests' Telegram Bot API double, handing each message the bot sends to a chat to that
chat's simulated customer; run alone, a double that only answers (for bench/telegram_cost.py,
which keeps the double's CPU out of the bot's process).

    python -m bench.telegram_double    # prints the double's URL, serves until killed
"""

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
            queue = self.chats.get(int(params["chat_id"]))
            if queue is not None:
                queue.put_nowait(str(params["text"]))
        self.calls.clear()  # the double's record of calls would grow for the whole run
        self.messages.clear()
        return status, body


async def _serve() -> None:
    double = ReplyingDouble()
    print(await double.start(), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import uvloop

    uvloop.run(_serve())
