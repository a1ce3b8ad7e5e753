"""A small history with answers counted by hand (docs/console.md defines each figure).

Two weeks, Monday 2 to Sunday 15 November 2026, UTC; a few rows just outside on purpose.
Conversations: A webchat/en (Emma), B telegram/pl (Piotr), C email/en (anonymous),
D webchat/ru (outside the range), E email/en (Emma, the bot wrote, she never did).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialog import events
from dialog.tables import Conversation, Event, Handoff, TranscriptEntry
from orders.tables import Customer, Order, OrderHistory, OrderLine

START, END = date(2026, 11, 2), date(2026, 11, 15)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def seed(session: AsyncSession) -> None:
    emma = Customer(name="Emma", email="emma@example.com", language="en")
    piotr = Customer(name="Piotr", email="piotr@example.com", language="pl")
    session.add_all([emma, piotr])
    await session.flush()
    chats = {
        "A": Conversation(channel="webchat", chat_id="a", customer_id=emma.id, language="en"),
        "B": Conversation(channel="telegram", chat_id="b", customer_id=piotr.id, language="pl"),
        "C": Conversation(channel="email", chat_id="c", language="en"),
        "D": Conversation(channel="webchat", chat_id="d", language="ru"),
        "E": Conversation(channel="email", chat_id="e", customer_id=emma.id, language="en"),
    }
    session.add_all(chats.values())
    await session.flush()
    ids = {name: chat.id for name, chat in chats.items()}

    def said(chat: str, when: datetime, flow: str | None, intent: str | None,
             text: str = "...") -> TranscriptEntry:
        return TranscriptEntry(conversation_id=ids[chat], sender="customer", text=text,
                               flow=flow, intent=intent, at=when)

    session.add_all([
        said("A", at(2, 10), "status", "order_status", "where is T-1"),
        TranscriptEntry(conversation_id=ids["A"], sender="bot", text="It is on its way",
                        at=at(2, 10)),
        said("A", at(2, 10, 1), "fallback", "order_status", "wheres my stuff"),
        said("A", at(3, 9), "smalltalk", "goodbye", "bye"),
        said("B", at(3, 12), "fallback", "cancel_order", "anuluj to"),
        said("B", at(3, 12, 1), "fallback", "cancel_order", "nie chce"),
        said("B", at(3, 12, 2), "operator", "human"),
        said("B", at(10, 8), "confirm", "affirm"),
        said("C", at(9, 15), "handoff", "human"),
        said("C", at(9, 15, 5), "fallback", None, "???"),
        said("D", at(20, 10), "status", "order_status"),
    ])

    def handoff(chat: str, reason: str, flow: str | None, escalated: datetime,
                **when: Any) -> Handoff:
        return Handoff(conversation_id=ids[chat], reason=reason, flow=flow,
                       escalated_at=escalated, **when)

    h1 = handoff("B", "not_understood", "fallback", at(3, 12, 1), claimed_at=at(3, 12, 5),
                 first_reply_at=at(3, 12, 7), last_reply_at=at(3, 12, 7), ended_at=at(3, 12, 20),
                 outcome="resolved", operator_key="console:1", operator_name="Anna")
    h2 = handoff("C", "customer_asked", "handoff", at(9, 15), claimed_at=at(9, 15, 30),
                 first_reply_at=at(9, 15, 40), last_reply_at=at(9, 16), ended_at=at(9, 16, 30),
                 outcome="handed_back", operator_key="console:2", operator_name="Boris")
    h3 = handoff("E", "confirmation_unanswered", None, at(14, 9))
    h4 = handoff("D", "customer_asked", "handoff", at(20, 10))
    session.add_all([h1, h2, h3, h4])
    await session.flush()

    def order(number: str, customer: Customer, created: datetime, sku: str = "SKU-9",
              total: int = 1000, **values: Any) -> Order:
        return Order(number=number, customer_id=customer.id, status=values.pop("status",
                     "confirmed"), currency="EUR", total_minor=total, pay_token=number,
                     created_at=created, updated_at=created,
                     lines=[OrderLine(sku=sku, name=sku, quantity=1, unit_price_minor=total)],
                     **values)

    orders = [
        order("T-1", emma, at(4, 9), voucher_code="WELCOME10"),
        order("T-2", piotr, at(5, 8), status="cancelled"),
        order("T-3", emma, at(6, 7)),
        order("T-4", emma, at(12, 7), status="pending_confirmation"),
        order("T-5", emma, at(20, 7), status="pending_confirmation"),
        order("T-6", emma, at(8, 12), sku="SKU-1"),
        order("T-7", emma, at(30, 12), sku="SKU-2"),
        order("T-8", piotr, at(1, 8), total=5000, payment_due_date=date(2026, 11, 10),
              payment_status="paid"),
        order("T-9", emma, at(1, 8), total=3000, payment_due_date=date(2026, 11, 8),
              payment_status="pending"),
        order("T-10", piotr, at(1, 8, month=10), total=7000,
              payment_due_date=date(2026, 10, 25), payment_status="paid"),
        order("T-11", piotr, at(1, 8, month=10), total=900, status="cancelled",
              payment_due_date=date(2026, 10, 20), payment_status="pending"),
    ]
    session.add_all(orders)
    await session.flush()
    by_number = {o.number: o.id for o in orders}

    def history(number: str, cause: str, when: datetime, to: str = "confirmed") -> OrderHistory:
        return OrderHistory(order_id=by_number[number], from_status="pending_confirmation",
                            to_status=to, cause=cause, at=when)

    session.add_all([
        history("T-1", "customer confirmed", at(4, 10, 30)),
        history("T-2", "customer declined", at(5, 9, 10), to="cancelled"),
        history("T-3", "customer confirmed", at(6, 9)),
        history("T-8", "shop api: payment_received", at(8, 10)),
        history("T-10", "payment page (demo): payment_received", at(12, 10)),
    ])

    def event(kind: str, chat: str, when: datetime, subject: str | None = None,
              value: int | None = None, handoff_id: int | None = None) -> Event:
        return Event(kind=kind, conversation_id=ids[chat], subject=subject, value=value,
                     handoff_id=handoff_id, at=when)

    session.add_all([
        event(events.CONFIRMATION_SENT, "A", at(4, 10), "T-1"),
        event(events.CROSS_SELL_ACCEPTED, "A", at(4, 10, 20), "T-1"),
        event(events.CONFIRMATION_SENT, "B", at(5, 9), "T-2"),
        event(events.ALTERNATIVE_ACCEPTED, "B", at(5, 9, 5), "T-2"),
        event(events.CONFIRMATION_SENT, "E", at(6, 8), "T-3"),
        event(events.CONFIRMATION_SENT, "A", at(12, 8), "T-4"),
        event(events.CONFIRMATION_SENT, "A", at(20, 8), "T-5"),
        event(events.STATUS_ANSWERED, "A", at(2, 10), "T-1"),
        event(events.STATUS_ANSWERED, "A", at(20, 10), "T-1"),
        event(events.ORDER_CANCELLED, "B", at(10, 8), "T-2"),
        event(events.DELIVERY_CHANGED, "A", at(11, 8), "T-3"),
        event(events.RETURN_OPENED, "C", at(9, 15), "T-1"),
        event(events.BACK_IN_STOCK_SENT, "A", at(5, 12), "SKU-1"),
        event(events.BACK_IN_STOCK_SENT, "A", at(6, 12), "SKU-2"),
        event(events.PAYMENT_REMINDER_SENT, "B", at(3, 9), "T-8"),
        event(events.PAYMENT_REMINDER_SENT, "B", at(7, 9), "T-8"),
        event(events.PAYMENT_REMINDER_SENT, "A", at(4, 9), "T-9"),
        event(events.RATING_OFFERED, "B", at(3, 12, 20), handoff_id=h1.id),
        event(events.RATING, "B", at(3, 12, 21), value=5, handoff_id=h1.id),
        event(events.RATING_OFFERED, "C", at(9, 16, 30), handoff_id=h2.id),
        event(events.RATING, "C", at(9, 16, 31), value=2, handoff_id=h2.id),
        event(events.RATING_OFFERED, "A", at(3, 9)),
        event(events.RATING, "A", at(3, 9, 1), value=4),
    ])
