"""Two real bot processes, one PostgreSQL and a Redis that is stopped and started again while
web chat customers write. Each customer has a tab on each process and writes from both: every
reply reaches both tabs, above all the tab that asked, also those published while one
process's reader was away from Redis. /health says redis "ok" on a process only once its
reader has caught up."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Origin

from tests.reliability.bot_process import BotProcess, query, wait_for_rows
from tests.reliability.test_coordination_faults import StoppableRedis
from tests.reliability.test_scale_out import SETTLED, Client

CUSTOMERS = 4
ROUNDS = 6  # Redis is stopped after round 1 and started after round 3
DEADLINE = 30.0
WORDS = ("hello", "thanks", "hi", "thank you", "hello again", "thanks a lot")


async def health_of(bot: BotProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        body: dict[str, Any] = (await client.get(f"{bot.url}/health")).json()
        return body


async def until_redis_ok(bot: BotProcess) -> float:
    """Seconds until the process's /health says redis "ok" (a state polled, no sleep as
    synchronisation)."""
    started = time.monotonic()
    while (await health_of(bot)).get("redis") != "ok":
        if time.monotonic() - started > DEADLINE:
            raise AssertionError(f"{bot.url} never said redis ok:\n{bot.log()[-3000:]}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def tab(bot: BotProcess, token: str, chat_id: str) -> Client:
    socket = await websockets.connect(f"{bot.ws_url}/webchat/ws?token={token}",
                                      origin=Origin(bot.url))
    client = Client(chat_id, socket, chat_id)
    await client.until(lambda _: any(f["type"] == "history" for f in client.frames))
    return client


async def send(client: Client, text: str, client_id: str) -> None:
    """Sent with an id, and acknowledged (recorded) before the next one."""
    await client.socket.send(json.dumps({"type": "message", "text": text, "id": client_id}))
    async with asyncio.timeout(DEADLINE):
        while not any(f == {"type": "ack", "id": client_id} for f in client.frames):
            client._changed.clear()
            await client._changed.wait()


async def test_every_reply_reaches_the_tab_that_asked_across_a_redis_restart(
    postgres_url: str, tmp_path: Path
) -> None:
    redis = StoppableRedis()
    redis.start()
    bots = [BotProcess.make(postgres_url, tmp_path / f"bot-{n}.log", redis={"url": redis.url},
                            process={"name": f"bot-{n}"}) for n in range(2)]
    async with AsyncExitStack() as cleanup:
        cleanup.callback(redis.stop)
        for bot in bots:
            cleanup.push_async_callback(bot.kill)
        await asyncio.gather(*(bot.start() for bot in bots))
        tabs: list[tuple[Client, Client]] = []
        async with httpx.AsyncClient(base_url=bots[0].url, timeout=DEADLINE) as http:
            for _ in range(CUSTOMERS):
                session = (await http.post("/webchat/session", json={"language": "en"})).json()
                pair = (await tab(bots[0], session["token"], session["conversation_id"]),
                        await tab(bots[1], session["token"], session["conversation_id"]))
                for client in pair:
                    cleanup.push_async_callback(client.close)
                tabs.append(pair)

        restarted_at = 0.0
        health: list[asyncio.Task[float]] = []
        for round_ in range(ROUNDS):
            if round_ == 1:
                redis.stop()
            if round_ == 3:
                await asyncio.to_thread(redis.start)
                restarted_at = time.monotonic()
                health = [asyncio.create_task(until_redis_ok(bot)) for bot in bots]
            # Each customer writes from the tab on one process, then from the other's.
            await asyncio.gather(*(
                send(pair[(round_ + n) % 2], WORDS[round_], f"{n}-{round_}")
                for n, pair in enumerate(tabs)))
        health_seconds = await asyncio.gather(*health)

        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], DEADLINE)
        for pair in tabs:
            chat_id = pair[0].chat_id
            said = [t for (t,) in await query(
                postgres_url, "SELECT t.text FROM transcript t JOIN conversations c"
                " ON c.id = t.conversation_id WHERE c.chat_id = :chat AND t.sender = 'customer'"
                " ORDER BY t.id", chat=chat_id)]
            assert said == list(WORDS)  # each recorded once, in order
            replies = sorted(i for (i,) in await query(
                postgres_url, "SELECT t.id FROM transcript t JOIN conversations c"
                " ON c.id = t.conversation_id WHERE c.chat_id = :chat AND t.sender = 'bot'",
                chat=chat_id))
            assert len(replies) >= ROUNDS
            def all_of(messages: list[dict[str, Any]], ids: list[int] = replies) -> bool:
                return {m["id"] for m in messages} >= set(ids)

            for client in pair:  # both tabs: the one that asked and the other
                await client.until(all_of)
                assert sorted({m["id"] for m in client.messages}) == replies
        caught_up = time.monotonic() - restarted_at
        print(f"\n/health redis ok after restart: {[round(s, 2) for s in health_seconds]} s;"
              f" every tab caught up {caught_up:.2f} s after Redis started again")
