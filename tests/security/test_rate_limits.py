"""Rate limits of the public endpoints over the real server ([limits], channels/limits.py):
web chat sessions per address, web chat messages per conversation, the platform webhooks
per address, platform chats per conversation, and one count shared by two bots over Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select

from dialog.tables import InboxRow, TranscriptEntry
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.telegram_api import WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.reliability.bot_process import BotProcess
from tests.servers import free_port

TIMEOUT = 10


async def _served(make_bot: BotFactory, **sections: Any) -> LiveServer:
    return await serve(await make_bot(http={"port": free_port()}, **sections))


async def _sessions(server: LiveServer, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return [await client.post("/webchat/session", json={"language": "en"})
                for _ in range(count)]


async def _customer_lines(server: LiveServer) -> int:
    async with server.bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(TranscriptEntry).where(
            TranscriptEntry.sender == "customer")) or 0)


async def test_web_chat_sessions_past_the_limit_are_429_with_retry_after(
    make_bot: BotFactory,
) -> None:
    server = await _served(make_bot, limits={"webchat_sessions_per_ip_per_minute": 3})
    try:
        under = await _sessions(server, 3)
        assert [r.status_code for r in under] == [200, 200, 200]
        over = (await _sessions(server, 1))[0]
        assert over.status_code == 429
        assert 1 <= int(over.headers["Retry-After"]) <= 60
        assert "too many requests" in over.json()["detail"]
    finally:
        await server.stop()


async def test_a_flood_of_chat_messages_gets_an_error_frame_in_the_customers_language(
    make_bot: BotFactory,
) -> None:
    server = await _served(make_bot, limits={"messages_per_conversation_per_minute": 3})
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            token = (await client.post("/webchat/session", json={"language": "pl"})).json()[
                "token"]
        async with websockets.connect(f"{server.ws_url}/webchat/ws?token={token}",
                                      origin=server.url) as socket:
            assert json.loads(await socket.recv())["type"] == "history"
            for _ in range(6):
                await socket.send(json.dumps({"type": "message", "text": "dzień dobry"}))
            frames: list[dict[str, Any]] = []
            while sum(f["type"] == "error" for f in frames) < 3:
                frames.append(json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT)))
            errors = [f for f in frames if f["type"] == "error"]
            polite = server.bot.texts.get("pl", "error_too_many")
            assert all(f["reason"] == polite for f in errors)
            await server.bot.outbox.drain()
            assert await _customer_lines(server) == 3  # nothing beyond the limit was processed
            # The socket stays open: the customer is still told, not cut off.
            await socket.send(json.dumps({"type": "message", "text": "halo"}))
            frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            while frame["type"] != "error":
                frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            assert frame["reason"] == polite
    finally:
        await server.stop()


async def test_under_the_limits_everything_passes(make_bot: BotFactory) -> None:
    server = await _served(make_bot, limits={"webchat_sessions_per_ip_per_minute": 10,
                                             "messages_per_conversation_per_minute": 10})
    try:
        sessions = await _sessions(server, 10)
        assert all(r.status_code == 200 for r in sessions)
        token = sessions[0].json()["token"]
        async with websockets.connect(f"{server.ws_url}/webchat/ws?token={token}",
                                      origin=server.url) as socket:
            await socket.recv()
            for _ in range(10):
                await socket.send(json.dumps({"type": "message", "text": "hello"}))
            answers = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(10)]
        assert [a["type"] for a in answers] == ["message"] * 10  # each answered, no refusal
        assert await _customer_lines(server) == 10
    finally:
        await server.stop()


async def test_the_telegram_webhook_is_limited_per_address_and_refused_updates_not_recorded(
    make_bot: BotFactory, telegram_api: TelegramApiDouble,
) -> None:
    server = await _served(make_bot, telegram=telegram_api.bot_settings(),
                           limits={"webhook_requests_per_ip_per_second": 2})
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            async def post(update_id: int) -> httpx.Response:
                return await client.post(
                    "/telegram/webhook", json=text_update(update_id, "olivia", "hello"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})

            responses = await asyncio.gather(*(post(1000 + i) for i in range(10)))
        codes = [r.status_code for r in responses]
        assert set(codes) == {200, 429} and codes.count(200) <= 4
        assert all(int(r.headers["Retry-After"]) >= 1 for r in responses if r.status_code == 429)
        async with server.bot.database.transaction() as session:
            recorded = await session.scalar(select(func.count()).select_from(InboxRow))
        assert recorded == codes.count(200)  # Telegram sends the refused ones again later
    finally:
        await server.stop()


async def test_a_telegram_chat_flooding_is_recorded_but_answered_only_up_to_the_limit(
    make_bot: BotFactory, telegram_api: TelegramApiDouble,
) -> None:
    server = await _served(make_bot, telegram=telegram_api.bot_settings(),
                           limits={"messages_per_conversation_per_minute": 3})
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            for i in range(6):
                response = await client.post(
                    "/telegram/webhook", json=text_update(2000 + i, "olivia", f"hello {i}"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
                assert response.status_code == 200  # acknowledged: Telegram must not resend
        await server.bot.inbox.drain()
        await server.bot.outbox.drain()
        async with server.bot.database.transaction() as session:
            rows = list(await session.scalars(select(InboxRow).order_by(InboxRow.id)))
        assert len(rows) == 6 and all(row.processed_at is not None for row in rows)
        assert await _customer_lines(server) == 3
    finally:
        await server.stop()


async def test_the_slack_events_endpoint_is_limited_per_address(
    make_bot: BotFactory, slack_api: SlackApiDouble,
) -> None:
    server = await _served(make_bot, slack=slack_api.bot_settings(),
                           limits={"webhook_requests_per_ip_per_second": 2})
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            responses = await asyncio.gather(*(
                client.post("/slack/events", content=b"{}") for _ in range(8)))
        codes = [r.status_code for r in responses]
        assert 429 in codes and codes.count(401) <= 4  # unsigned: refused either way
    finally:
        await server.stop()


async def test_two_bots_on_one_redis_share_the_count(
    make_bot: BotFactory, redis_url: str,
) -> None:
    sections = {"redis": {"url": redis_url}, "limits": {"webchat_sessions_per_ip_per_minute": 4}}
    first = await _served(make_bot, **sections)
    second = await _served(make_bot, **sections)
    try:
        assert [r.status_code for r in await _sessions(first, 2)] == [200, 200]
        assert [r.status_code for r in await _sessions(second, 2)] == [200, 200]
        assert (await _sessions(first, 1))[0].status_code == 429
        assert (await _sessions(second, 1))[0].status_code == 429
    finally:
        await first.stop()
        await second.stop()


async def test_two_bot_processes_on_one_redis_share_the_count(
    redis_url: str, tmp_path: Path,
) -> None:
    """Real `python bot.py` processes, each with its own database, one Redis."""
    bots = [BotProcess.make(f"sqlite+aiosqlite:///{tmp_path}/bot{index}.db",
                            tmp_path / f"bot{index}.log", redis={"url": redis_url},
                            limits={"webchat_sessions_per_ip_per_minute": 5})
            for index in range(2)]
    try:
        for bot in bots:
            await bot.start()
        async with httpx.AsyncClient() as client:
            async def session(bot: BotProcess) -> int:
                response = await client.post(f"{bot.url}/webchat/session", json={})
                return response.status_code

            assert [await session(bots[i % 2]) for i in range(5)] == [200] * 5
            assert await session(bots[0]) == 429
            assert await session(bots[1]) == 429
    finally:
        for bot in bots:
            await bot.stop()


def test_a_negative_limit_stops_the_start_naming_the_key() -> None:
    from config import SettingsError
    from tests.conftest import make_settings

    with pytest.raises(SettingsError, match="limits.webhook_requests_per_ip_per_second"):
        make_settings("sqlite+aiosqlite:///x.db",
                      limits={"webhook_requests_per_ip_per_second": -1})
    assert make_settings("sqlite+aiosqlite:///x.db",
                         limits={"messages_per_conversation_per_minute": 0})  # 0: off
