"""What the order confirmation remembers and shows: its declared steps and data, the order's
summary lines and total, and the reading of a typed voucher code. Shared by the confirmation's
modules (confirm.py, confirm_stock.py, confirm_checkout.py) and its reminders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dialog.flows.base import Turn
from dialog.flows.delivery_questions import DeliveryQuestion
from dialog.flows.steps import FlowData
from orders.service import OrderView
from orders.vouchers import normalise_code

FLOW = "confirm"
PAYMENTS = ("card", "bank_transfer", "cash_on_delivery")
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_AROUND_CODE = "\"'«»„“”.,!?;:"  # quotes and punctuation a typed code may come in

Money = Callable[[int, str], str]  # (minor units, currency) -> "37,50 EUR" in the language


class ConfirmStep(StrEnum):
    BEGIN = "begin"  # the summary: go on, or decline
    STOCK = "stock"  # a line is out of stock: an alternative, remove it, wait, or decline
    # The delivery questions (delivery_questions.py).
    METHOD = DeliveryQuestion.METHOD.value
    DAY = DeliveryQuestion.DAY.value
    SLOT = DeliveryQuestion.SLOT.value
    STORE = DeliveryQuestion.STORE.value
    POINT = DeliveryQuestion.POINT.value
    PAYMENT = "payment"
    PREPAY = "prepay"  # cash on delivery refused by the credit check: pay first, or a person
    VOUCHER = "voucher"
    CROSSSELL = "crosssell"  # one accessory offered
    FINAL = "final"  # the whole plan: confirm, or decline


@dataclass
class ConfirmData(FlowData):
    number: str | None = None
    plan: dict[str, Any] | None = None  # delivery, payment, voucher and discount so far
    options: list[list[str]] | None = None  # the question's (argument, title) pairs
    asked: list[Any] | None = None  # its text key and params, to ask it again
    # At STOCK: the line out of stock and what may replace it.
    sku: str | None = None
    quantity: int | None = None
    expected: str | None = None
    alternatives: dict[str, list[Any]] | None = None
    offer: dict[str, str] | None = None  # at CROSSSELL: {sku, name}


def lines_text(order: OrderView, money: Money) -> str:
    return "\n".join(
        f"• {line.quantity} × {line.name} — "
        f"{money(line.quantity * line.unit_price_minor, order.currency)}"
        for line in order.lines
    )


def summary_params(order: OrderView, money: Money) -> dict[str, str]:
    return {"number": order.number, "lines": lines_text(order, money),
            "total": money(order.total_minor, order.currency)}


def job_key(number: str) -> str:
    return f"confirm:{number}:"


def plan_of(turn: Turn) -> dict[str, Any]:
    return dict(turn.state.slots.get("plan") or {})


def order_slots(turn: Turn, order: OrderView) -> dict[str, Any]:
    """What every question keeps: the order and the plan so far."""
    return {"number": order.number, "plan": plan_of(turn)}


def total(turn: Turn, order: OrderView) -> str:
    lines = sum(line.quantity * line.unit_price_minor for line in order.lines)
    discount = int(plan_of(turn).get("discount", 0))
    return turn.money(max(lines - discount, 0), order.currency)


def code_word(text: str) -> str | None:
    """The voucher code the message is: one word of letters, digits and hyphens with a digit
    ("welcome10", "LOYAL-2024."), else None. A sentence is never a code: "where is my order
    A-1003" is a question, not the code WHEREISMYORDERA-1003."""
    word = text.strip().strip(_AROUND_CODE).strip()
    if not word or any(character.isspace() for character in word):
        return None
    code = normalise_code(word)
    if 4 <= len(code) <= 24 and set(code) <= _CODE_CHARS and any(c.isdigit() for c in code):
        return code
    return None


def names_another_order(turn: Turn, order: OrderView) -> bool:
    """The message names an order number, and not the one being confirmed."""
    named = turn.understanding.entities.order_numbers if turn.understanding else ()
    return bool(named) and order.number.upper() not in {number.upper() for number in named}
