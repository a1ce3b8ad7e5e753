"""Step one flow with no app and no database: the turn's replies are the collecting channel,
and an in-memory shop stands in for the bound use cases (dialog/flows/shop.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, cast

from dialog.flows.base import Flow, Turn
from dialog.flows.shop import Shop
from dialog.messages import Button, ConversationKey, Inbound, Outbound
from dialog.nlu import Understanding
from dialog.nlu.entities import extract_entities
from dialog.store import ConversationState
from dialog.texts import Texts
from orders.cancellation import AlreadyCancelled, AlreadyShipped, Cancellation
from orders.returns import Eligibility, ReturnLine, ReturnView
from orders.service import CustomerView, LineView, OrderView
from orders.states import OrderStatus

TEXTS = Texts.load()
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def order_view(number: str, status: OrderStatus, *, customer_id: int = 7,
               paid: bool = False, lines: tuple[LineView, ...] = ()) -> OrderView:
    return OrderView(
        number=number, status=status, customer_id=customer_id, customer_name="Ann Lee",
        customer_email="ann@example.com", customer_language="en", preferred_channel=None,
        customer_email_undeliverable=False, currency="EUR", total_minor=4990,
        postcode="10115", delivery_method="courier",
        delivery_address={"street": "Main St 1", "postcode": "10115", "city": "Berlin"},
        payment_method="card", payment_status="paid" if paid else "unpaid", carrier=None,
        tracking_number=None, tracking_url=None, pay_token="-", created_at=NOON,
        delivered_at=NOON if status is OrderStatus.DELIVERED else None,
        lines=lines or (LineView("MUG-1", "Blue mug", 1, 4990),),
    )


@dataclass
class ShopInMemory:
    """The few use cases the cancel and return flows call, over a dict of orders."""

    orders: dict[str, OrderView]
    cancelled: list[str] = field(default_factory=list)
    returns: list[tuple[str, dict[int, int], str, str]] = field(default_factory=list)
    photos: list[str | None] = field(default_factory=list)  # of each return, in order
    told_owner: list[str] = field(default_factory=list)
    return_window_days: int = 14

    async def get_order(self, number: str) -> OrderView | None:
        return self.orders.get(number)

    async def orders_of_customer(self, customer_id: int) -> list[OrderView]:
        return [order for order in self.orders.values() if order.customer_id == customer_id]

    async def cancel_order(self, number: str, cause: str) -> Cancellation:
        order = self.orders[number]
        if order.status is OrderStatus.CANCELLED:
            raise AlreadyCancelled(number)
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            raise AlreadyShipped(number, order.status)
        self.orders[number] = replace(order, status=OrderStatus.CANCELLED)
        self.cancelled.append(number)
        return Cancellation(self.orders[number])

    async def return_eligibility(self, number: str) -> Eligibility:
        order = self.orders[number]
        lines = tuple(ReturnLine(position, line.sku, line.name, line.quantity,
                                 line.unit_price_minor, line.quantity, None)
                      for position, line in enumerate(order.lines, 1))
        return Eligibility(number, order.currency, date(2026, 12, 8), lines, None)

    async def names(self, skus: Any, language: str) -> dict[str, str]:
        return {}

    async def request_return(self, number: str, quantities: dict[int, int], reason: str,
                             method: str, *, photo: str | None = None) -> ReturnView:
        self.returns.append((number, dict(quantities), reason, method))
        self.photos.append(photo)
        return ReturnView("R-0001", number, "requested", method, reason, (), 4990, "EUR",
                          "https://shop.test/labels/R-0001.pdf")

    async def tell_owner(self, customer: CustomerView, text_key: str, *buttons: Any,
                         avoid: int, **params: object) -> object:
        self.told_owner.append(text_key)
        return object()


class FlowChat:
    """A conversation with one flow: say(...) and press(...) return the flow's replies."""

    def __init__(self, flow: Flow, shop: ShopInMemory, customer_id: int | None = None) -> None:
        self.flow, self.shop = flow, shop
        self.state = ConversationState(id=1, key=ConversationKey("webchat", "c1"),
                                       customer_id=customer_id, language="en", status="bot")
        self.replies: list[Outbound] = []

    async def say(self, text: str, intent: str = "out_of_scope",
                  confidence: float = 0.95) -> str:
        understanding = Understanding(intent, confidence, "en", 1.0, extract_entities(text),
                                      ((intent, confidence),))
        turn = self._turn(Inbound(key=self.state.key, text=text), understanding)
        if self.state.flow == self.flow.name and await self.flow.resume(turn):
            return await self._answered(turn)
        await self.flow.start(turn, intent)
        return await self._answered(turn)

    async def press(self, title: str) -> str:
        button = next(b for b in self.buttons if b.title == title)
        name, _, argument = button.payload.partition(":")
        assert name == self.flow.name, f"{title!r} leads to {name}"
        turn = self._turn(Inbound(key=self.state.key, action=button.payload), None)
        await self.flow.on_action(turn, argument)
        return await self._answered(turn)

    @property
    def buttons(self) -> list[Button]:
        return [button for reply in self.replies for button in reply.buttons]

    def _turn(self, inbound: Inbound, understanding: Understanding | None) -> Turn:
        return Turn(inbound=inbound, understanding=understanding, state=self.state,
                    shop=cast(Shop, self.shop), texts=TEXTS, shop_name="Test Shop")

    async def _answered(self, turn: Turn) -> str:
        for write in turn.afterwards:  # what the manager writes after the replies
            await write()
        self.replies = turn.replies
        return "\n".join(reply.text for reply in turn.replies)
