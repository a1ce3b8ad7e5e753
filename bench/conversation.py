"""What a simulated customer says: real conversations, cycle after cycle, each message a turn.

A cycle: greet; ask where an order is; prove it with its delivery postcode (only the first
time the order comes up in the conversation: the bot remembers proven orders); ask whether a
product is in stock; thank. Every turn is answered with exactly one message; each reply is
checked for what it must mention (the order's number, the product's name).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

PRODUCTS = ("Wireless mouse", "Bluetooth speaker", "USB-C charger 65 W", "SSD 1 TB")  # in stock


@dataclass(frozen=True, slots=True)
class DemoOrder:
    number: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Step:
    text: str
    expect: str = ""  # the reply must contain this ("" = any reply)

    def accepts(self, reply: str) -> bool:
        return self.expect in reply


def conversation(orders: Sequence[DemoOrder], first: int) -> Iterator[Step]:
    """An endless conversation; `first` picks where in the orders and products it starts."""
    proven: set[str] = set()
    cycle = first
    while True:
        order = orders[cycle % len(orders)]
        product = PRODUCTS[cycle % len(PRODUCTS)]
        yield Step("hello")
        yield Step(f"where is my order {order.number}?", order.number)
        if order.number not in proven:
            yield Step(order.postcode, order.number)
            proven.add(order.number)
        yield Step(f"do you have the {product.lower()}?", product)
        yield Step("thanks")
        cycle += 1


def echo(first: int) -> Iterator[Step]:
    """For the echo baseline: each message comes back as it was sent."""
    count = first * 1_000_000
    while True:
        count += 1
        text = f"ping {count}"
        yield Step(text, text)
