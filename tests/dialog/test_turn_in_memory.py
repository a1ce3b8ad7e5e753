"""The dialog manager over the in-memory unit of work: no app, no database, a real outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from coordination.memory import InProcessLocks
from dialog.flows.registry import all_flows
from dialog.manager import DialogManager
from dialog.messages import ConversationKey, Inbound
from dialog.nlu import NluModel
from dialog.outbox import OutboxSender
from dialog.store import ConversationStore
from dialog.texts import Texts
from tests.fakes.channel import CollectingChannel
from tests.fakes.unit_of_work import InMemoryDatabase

SHOP = "Test Shop"


@dataclass
class Dialog:
    manager: DialogManager
    database: InMemoryDatabase
    channel: CollectingChannel
    outbox: OutboxSender

    async def say(self, key: ConversationKey, text: str, message_id: str | None = None
                  ) -> list[str]:
        replies = await self.manager.handle(Inbound(key=key, text=text, message_id=message_id))
        return [reply.text for reply in replies]


@pytest.fixture
async def dialog(nlu: NluModel) -> AsyncIterator[Dialog]:
    database = InMemoryDatabase()
    store = ConversationStore(owner="test")
    channel = CollectingChannel()
    outbox = OutboxSender(database.unit_of_work, store, {"webchat": channel})
    await outbox.start()
    texts = Texts.load()
    manager = DialogManager(
        units=database.unit_of_work, store=store, nlu=nlu,
        texts=texts, locks=InProcessLocks(), outbox=outbox, flows=all_flows(), shop_name=SHOP,
    )
    yield Dialog(manager, database, channel, outbox)
    await outbox.stop()


async def test_a_greeting_is_answered_and_delivered_once_committed(dialog: Dialog) -> None:
    key = ConversationKey("webchat", "chat-1")
    replies = await dialog.say(key, "hello")
    greeting = dialog.manager.texts.get("en", "greet", shop=SHOP)
    assert replies == [greeting]
    sent = await dialog.channel.wait_for(1)
    assert [d.outbound.text for d in sent] == [greeting]
    await dialog.outbox.drain()
    tables = dialog.database.tables
    assert [row.sent_at is not None for row in tables.outbox.values()] == [True]
    language, history = await dialog.manager.history(key)
    assert language == "en"
    assert [(e.sender, e.text) for e in history] == [("customer", "hello"), ("bot", greeting)]


async def test_a_two_message_exchange_keeps_the_conversation_and_its_language(
    dialog: Dialog,
) -> None:
    key = ConversationKey("webchat", "chat-2")
    first = await dialog.say(key, "dzień dobry")
    second = await dialog.say(key, "dziękuję")
    texts = dialog.manager.texts
    assert first == [texts.get("pl", "greet", shop=SHOP)]
    assert second == [texts.get("pl", "thanks", shop=SHOP)]
    await dialog.channel.wait_for(2)
    assert dialog.channel.texts == first + second
    language, history = await dialog.manager.history(key)
    assert language == "pl"
    assert [e.sender for e in history] == ["customer", "bot", "customer", "bot"]
    assert len(dialog.database.tables.conversations) == 1


async def test_a_message_seen_before_is_not_answered_again(dialog: Dialog) -> None:
    key = ConversationKey("webchat", "chat-3")
    assert await dialog.say(key, "hello", message_id="m-1")
    assert await dialog.say(key, "hello", message_id="m-1") == []
    _language, history = await dialog.manager.history(key)
    assert [e.sender for e in history] == ["customer", "bot"]  # the duplicate left nothing
    assert len(dialog.database.tables.outbox) == 1
