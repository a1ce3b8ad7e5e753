"""Concurrency: 50 messages to one conversation at once are answered in arrival order, one
turn at a time; the last unit of stock confirmed by 20 customers at once is sold once.

Smaller cases: tests/integration/test_inbox.py (15 messages in order),
tests/e2e/test_scale_out.py (20 messages over two bots), tests/integration/test_confirmation.py
and test_order_service.py (2 and 20 confirmations in one process).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import httpx
import websockets
from sqlalchemy import select

import schema  # noqa: F401  (every table)
from adapters.vouchers.local import LocalVouchers
from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey, Inbound
from dialog.tables import Conversation, TranscriptEntry
from orders.confirmation import Confirmation, ConfirmationPlan
from orders.service import LineView, NewCustomer, NewOrder, OrderService, OutOfStock
from orders.states import OrderStatus
from orders.tables import Product
from storage.database import Database, make_engine
from storage.upgrade import upgrade
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

MESSAGES = 50
TEXTS = [("hello", "thanks", "bye")[n % 3] + f" {n}" for n in range(MESSAGES)]
REPLY_TIMEOUT = 30


async def transcript(bot: Orderbot, key: ConversationKey) -> list[tuple[str, str]]:
    async with bot.database.transaction() as session:
        rows = await session.scalars(
            select(TranscriptEntry)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(Conversation.channel == key.channel, Conversation.chat_id == key.chat_id)
            .order_by(TranscriptEntry.id))
        return [(row.sender, row.text) for row in rows]


def one_at_a_time(lines: list[tuple[str, str]]) -> bool:
    """Each customer message is followed by its answer before the next message is read."""
    senders = [sender for sender, _ in lines]
    return senders == ["customer", "bot"] * (len(senders) // 2)


async def test_fifty_messages_over_one_websocket_are_answered_in_order(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(http={"port": free_port()}, demo={"enabled": False})
    server = await serve(bot)
    try:
        async with websockets.connect(f"{server.ws_url}/webchat/ws?token=" + await _token(server),
                                      origin=server.url) as socket:
            assert json.loads(await socket.recv())["type"] == "history"
            await asyncio.gather(*(socket.send(json.dumps({"type": "message", "text": text}))
                                   for text in TEXTS))
            frames = [json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT))
                      for _ in range(MESSAGES)]
    finally:
        await server.stop()
    assert [frame["type"] for frame in frames] == ["message"] * MESSAGES
    key = next(iter(await _conversations(bot)))
    lines = await transcript(bot, key)
    assert [text for sender, text in lines if sender == "customer"] == TEXTS
    assert one_at_a_time(lines)
    assert [frame["text"] for frame in frames] == [t for s, t in lines if s == "bot"]


async def test_fifty_inbox_messages_at_once_are_answered_in_arrival_order(
    make_bot: BotFactory, database_url: str
) -> None:
    bot = await make_bot(database_url, demo={"enabled": False})
    key = ConversationKey("telegram", "burst")
    acknowledged: list[str] = []  # arrival: the order in which each was recorded and queued

    async def deliver(number: int, text: str) -> None:
        assert await bot.inbox.accept(Inbound(key=key, text=text, message_id=f"m{number}"))
        acknowledged.append(text)  # no await since the turn was queued

    await asyncio.gather(*(deliver(n, text) for n, text in enumerate(TEXTS)))
    await bot.inbox.drain()
    assert sorted(acknowledged) == sorted(TEXTS)
    lines = await transcript(bot, key)
    assert [text for sender, text in lines if sender == "customer"] == acknowledged
    assert one_at_a_time(lines)


# The last unit of stock

SERVICE = OrderService()
PLAN = ConfirmationPlan(delivery_method="courier", payment_method="card",
                        delivery_date=date(2026, 11, 25), delivery_slot="09:00-12:00")
CUSTOMERS = 20


async def test_the_last_unit_confirmed_by_twenty_customers_at_once_is_sold_once(
    database_url: str,
) -> None:
    # Two engines: the customers' confirmations come through two bot processes.
    processes = [Database(make_engine(database_url)) for _ in range(2)]
    first = processes[0]
    try:
        await upgrade(first.engine)
        async with first.transaction() as session:
            session.add(Product(sku="LAST-1", name="Last one", category="x", price_minor=1000,
                                stock=1))
        numbers = [f"L-{n}" for n in range(CUSTOMERS)]
        for number in numbers:
            async with first.transaction() as session:
                await SERVICE.create_order(session, NewOrder(
                    number=number, customer=NewCustomer(name="C", email=f"{number}@example.com"),
                    lines=(LineView("LAST-1", "Last one", 1, 1000),), currency="EUR"), "test")

        async def confirm(database: Database, number: str) -> str:
            try:
                async with database.transaction() as session:
                    await Confirmation(SERVICE).confirm(session, number, PLAN, LocalVouchers(),
                                                        date(2026, 11, 24))
            except OutOfStock:
                return "out of stock"
            return "confirmed"

        outcomes = await asyncio.gather(*(confirm(processes[n % 2], number)
                                          for n, number in enumerate(numbers)))
        assert sorted(outcomes) == ["confirmed"] + ["out of stock"] * (CUSTOMERS - 1)
        async with first.transaction() as session:
            stock = await session.scalar(select(Product.stock).where(Product.sku == "LAST-1"))
            statuses = [(await SERVICE.get_order(session, n)).status for n in numbers]
        assert stock == 0
        assert statuses.count(OrderStatus.CONFIRMED) == 1
        assert statuses.count(OrderStatus.PENDING_CONFIRMATION) == CUSTOMERS - 1
    finally:
        for database in processes:
            await database.dispose()


async def _token(server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/webchat/session", json={"language": "en"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def _conversations(bot: Orderbot) -> list[ConversationKey]:
    async with bot.database.transaction() as session:
        rows = await session.execute(select(Conversation.channel, Conversation.chat_id))
        return [ConversationKey(channel, chat) for channel, chat in rows]

