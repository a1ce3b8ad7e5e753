"""Helpers for the confirmation and delivery conversation tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from composition.bootstrap import Orderbot
from dialog.messages import Inbound
from orders.service import LineView, NewCustomer, NewOrder, OrderView
from tests.dialog.conftest import Conversation

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # tomorrow is Wednesday 25 Nov


def fix_clock(bot: Orderbot, now: datetime = TUESDAY) -> None:
    bot.services.confirmation = replace(bot.services.confirmation, clock=lambda: now)


async def order(bot: Orderbot, number: str) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


async def verified(bot: Orderbot, number: str) -> Conversation:
    """A conversation of the order's signed-in customer."""
    return Conversation(bot, customer_id=(await order(bot, number)).customer_id)


async def act(conversation: Conversation, payload: str) -> str:
    conversation.replies = await conversation.bot.manager.handle(
        Inbound(key=conversation.key, action=payload, customer_id=conversation.customer_id)
    )
    return "\n".join(reply.text for reply in conversation.replies)


async def shop_creates(
    bot: Orderbot, number: str, lines: list[tuple[str, str, int, int]],
    email: str = "new.customer@example.com", language: str = "en",
    payment: str = "card",
) -> tuple[Conversation, str]:
    """The shop creates an order (as POST /api/orders does); the customer's conversation
    with the bot's first message."""
    async with bot.units() as uow:
        created = await bot.orders.create_order(uow.session, NewOrder(
            number=number,
            customer=NewCustomer(name="New Customer", email=email, language=language),
            lines=tuple(LineView(*line) for line in lines), currency="EUR",
            delivery_address={"street": "1 Test St", "postcode": "SW1A 1AA"},
            payment_method=payment,
        ), "test")
        await bot.proactive.order_changed(uow, created, "created")
        state = await bot.store.latest_for_customer(uow, created.customer_id)
        assert state is not None
        _lang, history = await bot.store.history(uow, state.key)
        await uow.commit()
    conversation = Conversation(bot, customer_id=created.customer_id)
    conversation.key = state.key
    return conversation, history[-1].text
