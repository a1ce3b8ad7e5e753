"""A few weeks of made-up conversation history for the demo, so that a newcomer's dashboard
(console/analytics) shows something: conversations on every channel and in every language,
the flows that answered them, misunderstandings, handoffs with operators and ratings, and the
outcomes of the demo orders (confirmations, reminders).

Seeded once with the demo shop (composition/preparation.py), with `[demo] history` on, by bulk inserts (a few
thousand rows in a few statements: DemoHistoryRecords, SQL in storage/repositories/demo_history.py). The conversations are anonymous and long finished, so
that the shop's news about a demo order never goes to one of them and the queue stays empty.
Deterministic: the same history on every new demo (a fixed random seed, dates from today).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from dialog import events
from storage.clock import utcnow

DAYS = 35
SEED = 8
CHANNELS = [("webchat", 50), ("telegram", 25), ("email", 15), ("slack", 10)]
LANGUAGES = [("en", 50), ("pl", 30), ("ru", 20)]
OPERATORS = [("console:101", "Anna K."), ("console:102", "Boris N."), ("slack:U0DEMO", "Carla M.")]
# A conversation's topic: (flow, intent, event kind it ends with or None, weight)
TOPICS: list[tuple[str, str, str | None, int]] = [
    ("status", "order_status", events.STATUS_ANSWERED, 40),
    ("smalltalk", "greet", None, 12),
    ("availability", "product_availability", None, 10),
    ("cancel", "cancel_order", events.ORDER_CANCELLED, 8),
    ("delivery", "change_delivery", events.DELIVERY_CHANGED, 8),
    ("returns", "return_order", events.RETURN_OPENED, 8),
    ("payment", "payment", None, 7),
    ("handoff", "human", None, 7),
]
ASKED = {
    "en": {"status": "Where is my order A-1015?", "smalltalk": "hello",
           "availability": "do you have the ergonomic mouse?", "cancel": "I want to cancel my order",
           "delivery": "can you deliver it tomorrow instead?", "returns": "I'd like to return the keyboard",
           "payment": "how can I pay for my order?", "handoff": "I want to talk to a person"},
    "pl": {"status": "Gdzie jest moje zamówienie A-1017?", "smalltalk": "dzień dobry",
           "availability": "czy macie słuchawki douszne?", "cancel": "chcę anulować zamówienie",
           "delivery": "czy można dostarczyć jutro?", "returns": "chcę zwrócić klawiaturę",
           "payment": "jak mogę zapłacić?", "handoff": "chcę rozmawiać z konsultantem"},
    "ru": {"status": "Где мой заказ A-1021?", "smalltalk": "здравствуйте",
           "availability": "есть ли в наличии беспроводная мышь?", "cancel": "хочу отменить заказ",
           "delivery": "можно доставить завтра?", "returns": "хочу вернуть клавиатуру",
           "payment": "как оплатить заказ?", "handoff": "хочу поговорить с оператором"},
}
FOLLOW_UP = {"en": "EH1 1YZ", "pl": "00-950", "ru": "101000"}
BOT_SAYS = {"en": "Here is what I found.", "pl": "Oto co znalazłem.", "ru": "Вот что я нашёл."}
OPERATOR_SAYS = {"en": "Hello, I'm here to help.", "pl": "Dzień dobry, chętnie pomogę.",
                 "ru": "Здравствуйте, я помогу."}
# Messages the bot did not understand, with the intent the classifier guessed: what the
# dashboard lists as examples to add to the training data.
MISUNDERSTOOD = {
    "en": [("payment", "can I pay with bitcoin"), ("order_status", "parcel says delivered but nothing came"),
           ("change_delivery", "can the courier leave it with my neighbour"),
           ("return_order", "the box arrived crushed, what now")],
    "pl": [("payment", "czy mogę zapłacić w ratach"), ("order_status", "kurier nie przyjechał"),
           ("return_order", "pudełko przyszło zgniecione")],
    "ru": [("payment", "можно оплатить частями"), ("change_delivery", "пусть курьер позвонит за час"),
           ("order_status", "посылка застряла на складе")],
}
REASONS = {"handoff": "customer_asked", "returns": "return_exception", "payment": "payment_overdue"}
RATINGS = [5, 5, 5, 4, 4, 4, 3, 2, 1]


@dataclass(frozen=True)
class DemoOrder:
    id: int
    number: str
    status: str
    created_at: datetime


@dataclass
class OrderOutcomes:
    """What the bot would have recorded of the demo orders."""

    answers: list[tuple[int, str, str, datetime]] = field(default_factory=list)
    # (order id, the status it moved to, cause, at): the customer's answer to a confirmation
    vouchers: dict[str, str] = field(default_factory=dict)  # order number -> voucher code
    events: list[dict[str, Any]] = field(default_factory=list)  # rows with conversation_id


class DemoHistoryRecords(Protocol):
    async def add(self, plan: HistoryPlan) -> list[int]:
        """Insert the plan's rows; the ids of its conversations, in the plan's order."""
        ...

    async def orders(self) -> list[DemoOrder]:
        """Every order, oldest first."""
        ...

    async def record(self, outcomes: OrderOutcomes) -> None: ...


async def seed_history(records: DemoHistoryRecords, now: datetime | None = None) -> int:
    """Seed the history; the number of conversations made."""
    now = now or utcnow()
    plan = HistoryPlan(random.Random(SEED), now)
    for day in range(DAYS, 0, -1):
        for _ in range(plan.random.randint(6, 16)):
            plan.conversation(now - timedelta(days=day, hours=-plan.random.randint(7, 20),
                                              minutes=-plan.random.randint(0, 59)))
    conversations = await records.add(plan)
    await records.record(_order_outcomes(await records.orders(), conversations, now))
    return len(plan.conversations)


class HistoryPlan:
    """The rows to insert, conversations first (their ids are known only after)."""

    def __init__(self, chance: random.Random, now: datetime) -> None:
        self.random = chance
        self.now = now
        self.conversations: list[dict[str, Any]] = []
        self.transcript: list[tuple[int, dict[str, Any]]] = []  # (conversation index, row)
        self.handoffs: list[tuple[int, dict[str, Any]]] = []
        self.events: list[tuple[int, int | None, dict[str, Any]]] = []  # (conv, handoff, row)

    def pick(self, weighted: list[tuple[Any, int]]) -> Any:
        return self.random.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    def conversation(self, start: datetime) -> None:
        index, chance = len(self.conversations), self.random
        language = self.pick(LANGUAGES)
        flow, intent, outcome, _ = chance.choices(TOPICS, [t[3] for t in TOPICS])[0]
        at = start
        if chance.random() < 0.2:  # a misunderstanding first
            guessed, text = chance.choice(MISUNDERSTOOD[language])
            at = self.say(index, at, "fallback", guessed, text, language)
        at = self.say(index, at, flow, intent, ASKED[language][flow], language)
        if flow in ("status", "cancel", "delivery", "returns"):
            at = self.say(index, at, flow, "out_of_scope", FOLLOW_UP[language], language)
        escalated = flow == "handoff" or (flow in REASONS and chance.random() < 0.25)
        if outcome and not escalated:
            self.events.append((index, None, {"kind": outcome, "subject": "A-1015", "at": at}))
        if escalated:
            at = self.handoff(index, at, REASONS.get(flow, "customer_asked"), flow, language)
        elif chance.random() < 0.3:
            at = self.say(index, at, "smalltalk", "goodbye", "bye", language)
            self.rate(index, None, at)
        self.conversations.append({
            "channel": self.pick(CHANNELS), "chat_id": "demo-" + secrets.token_hex(8),
            "language": language, "status": "bot", "state": {}, "created_at": start,
            "updated_at": at})

    def say(self, index: int, at: datetime, flow: str, intent: str, text: str,
            language: str) -> datetime:
        self.transcript.append((index, {"sender": "customer", "text": text, "flow": flow,
                                        "intent": intent, "at": at, "buttons": []}))
        self.transcript.append((index, {"sender": "bot", "text": BOT_SAYS[language], "at": at,
                                        "buttons": []}))
        return at + timedelta(minutes=self.random.randint(1, 4))

    def handoff(self, index: int, at: datetime, reason: str, flow: str, language: str,
                ) -> datetime:
        chance = self.random
        key, name = chance.choice(OPERATORS)
        claimed = at + timedelta(minutes=chance.randint(1, 25))
        replied = claimed + timedelta(minutes=chance.randint(0, 4), seconds=chance.randint(5, 59))
        ended = replied + timedelta(minutes=chance.randint(3, 30))
        self.handoffs.append((index, {
            "reason": reason, "flow": flow, "escalated_at": at, "claimed_at": claimed,
            "operator_key": key, "operator_name": name, "first_reply_at": replied,
            "last_reply_at": replied, "ended_at": ended, "outcome": "resolved", "requeued": 0}))
        self.transcript.append((index, {"sender": "operator", "author": name,
                                        "text": OPERATOR_SAYS[language], "at": replied,
                                        "buttons": []}))
        self.rate(index, len(self.handoffs) - 1, ended)
        return ended

    def rate(self, index: int, handoff: int | None, at: datetime) -> None:
        self.events.append((index, handoff, {"kind": events.RATING_OFFERED, "at": at}))
        if self.random.random() < 0.6:
            self.events.append((index, handoff, {
                "kind": events.RATING, "value": self.random.choice(RATINGS),
                "at": at + timedelta(minutes=1)}))


def _order_outcomes(
    orders: list[DemoOrder], conversations: list[int], now: datetime
) -> OrderOutcomes:
    """The demo orders' confirmations (asked in a conversation, answered or not) and payment
    reminders, as the bot would have recorded them."""
    chance = random.Random(SEED + 1)
    outcomes = OrderOutcomes()
    rows = outcomes.events
    for order in orders:
        number, status, created = order.number, order.status, order.created_at
        if created < now - timedelta(days=DAYS) or number in ("A-1041", "A-1042", "A-1043"):
            continue
        conversation = chance.choice(conversations)
        sent = created + timedelta(minutes=1)
        rows.append({"kind": events.CONFIRMATION_SENT, "subject": number, "at": sent,
                     "conversation_id": conversation})
        if status == "pending_confirmation":
            continue
        cause = "customer declined" if status == "cancelled" else "customer confirmed"
        answered = sent + timedelta(minutes=chance.randint(3, 300))
        outcomes.answers.append((order.id, "cancelled" if status == "cancelled" else "confirmed",
                                 cause, answered))
        if cause == "customer confirmed":
            for kind, share in ((events.ALTERNATIVE_ACCEPTED, 0.1),
                                (events.CROSS_SELL_ACCEPTED, 0.25)):
                if chance.random() < share:
                    rows.append({"kind": kind, "subject": number, "at": answered,
                                 "conversation_id": conversation})
    outcomes.vouchers["A-1007"] = "THANKYOU20"  # the voucher it used
    for number, days_ago in (("A-1042", 5), ("A-1042", 1), ("A-1043", 10), ("A-1043", 6),
                             ("A-1043", 4)):
        rows.append({"kind": events.PAYMENT_REMINDER_SENT, "subject": number,
                     "at": now - timedelta(days=days_ago), "conversation_id": conversations[0]})
    for sku, days_ago in (("MS-210", 12), ("HD-310", 9), ("PB-530", 3)):
        rows.append({"kind": events.BACK_IN_STOCK_SENT, "subject": sku,
                     "at": now - timedelta(days=days_ago), "conversation_id": conversations[1]})
    return outcomes
