"""Replies of one conversation leave in the transcript's order across processes: two real bot
processes on one PostgreSQL and one Redis, one customer whose consecutive turns run on the two.

- Telegram (the webhook, the Bot API double in this process): turn 1 on process A, frozen
  after its commit and before its send (SIGSTOP at `reply_queued`); turn 2 on process B
  meanwhile. B's reply waits for A's: after SIGCONT the
  customer gets reply 1, then reply 2, each once.
- Web chat, the same customer in two tabs, one on each process: the tab on B gets reply 1
  (published by A through the Redis stream) before reply 2 (published by B).

The dead process's case (its reply sent at the takeover, before the survivor's later one) is
`test_lock_takeover.py::test_kill_9_of_a_process_holding_a_conversation_stalls_it_seconds_not_minutes`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.doubles.telegram_api import TelegramApiDouble
from tests.reliability.bot_process import BotProcess, wait_for_rows
from tests.reliability.test_lock_takeover import (
    CHAT,
    FIRST,
    SECOND,
    SETTLED,
    WITHIN,
    answered_once_each,
    lines,
    make_bot,
    say,
)

# Takeover far away, so that reply 1 stays the frozen process's own (a takeover is
# test_lock_takeover's case).
SECTIONS: dict[str, dict[str, Any]] = {"process": {"takeover_seconds": 600}}
TURN_TWO = (
    "SELECT count(*) FROM transcript t JOIN conversations c ON c.id = t.conversation_id"
    " WHERE c.channel = :channel AND t.sender = 'bot'"
)


async def test_a_reply_held_before_its_send_leaves_before_the_next_turns_reply(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    b = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "b.log", **SECTIONS)
    a = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "a.log", **SECTIONS)
    try:
        await b.start()
        await a.start(freeze_at="reply_queued")
        first = await say(a, telegram_api, FIRST)
        await a.frozen()  # turn 1 and its reply committed, not sent
        second = await say(b, telegram_api, SECOND)
        await wait_for_rows(postgres_url, TURN_TWO, [(2,)], WITHIN, channel="telegram")
        # Turn 2 committed on B; its reply waits for turn 1's, which nobody has sent.
        assert telegram_api.sent(CHAT) == []
        a.cont()
        await answered_once_each(postgres_url, telegram_api, [FIRST, SECOND], WITHIN)
        await asyncio.gather(first, second)
        assert len(await lines(postgres_url, "bot")) == 2
    finally:
        await a.kill()
        await b.stop()


class Tab:
    """A web chat tab: the bot's messages it was shown, in order."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.said: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, bot: BotProcess, token: str) -> Tab:
        socket = await websockets.connect(f"{bot.ws_url}/webchat/ws?token={token}",
                                          origin=bot.url)
        return cls(socket)

    async def _read(self) -> None:
        async for data in self.socket:
            frame = json.loads(data)
            if frame.get("type") == "message" and frame.get("from") == "bot":
                self.said.append(frame["text"])
            self._changed.set()

    async def say(self, text: str, client_id: str) -> None:
        await self.socket.send(json.dumps({"type": "message", "text": text, "id": client_id}))

    async def shown(self, count: int) -> list[str]:
        async with asyncio.timeout(WITHIN):
            while len(self.said) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.said

    async def close(self) -> None:
        await self.socket.close()
        await asyncio.gather(self._reader, return_exceptions=True)


async def test_web_chat_tabs_on_two_processes_show_the_replies_in_the_transcripts_order(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    b = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "b.log", **SECTIONS)
    a = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "a.log", **SECTIONS)
    tabs: list[Tab] = []
    try:
        await b.start()
        await a.start(freeze_at="reply_queued")
        async with httpx.AsyncClient(base_url=a.url, timeout=WITHIN) as client:
            session = await client.post("/webchat/session", json={"language": "en"})
        assert session.status_code == 200, session.text
        token = session.json()["token"]
        on_a, on_b = await Tab.open(a, token), await Tab.open(b, token)
        tabs += [on_a, on_b]
        await on_a.say("hello", "m-1")
        await a.frozen()  # turn 1 and its reply committed, not published
        await on_b.say("thanks", "m-2")
        await wait_for_rows(postgres_url, TURN_TWO, [(2,)], WITHIN, channel="webchat")
        assert on_b.said == []  # turn 2's reply waits for turn 1's
        a.cont()
        shown = await on_b.shown(2)
        assert shown[0].startswith("Hello") and "welcome" in shown[1], shown
        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], WITHIN)
        assert len(on_b.said) == 2
    finally:
        for tab in tabs:
            await tab.close()
        await a.kill()
        await b.stop()
