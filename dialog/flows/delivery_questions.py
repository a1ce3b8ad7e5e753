"""The delivery questions (method, day, slot, store, pickup point), asked by the order
confirmation and by the change-delivery flow: a sub-flow that each runs in its own steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dialog.dates import parse_day, parse_slot
from dialog.flows.base import Turn
from dialog.flows.choices import ask, picked
from orders.delivery import (
    DeliveryPlan,
    working_days,
)
from orders.service import OrderView

ALLOWED_DAYS = 10  # free text may name any of the next ten working days
NOT_AN_ANSWER = "not an answer"


def ask_method(turn: Turn, flow: str, slots: dict[str, Any], store: bool = True) -> None:
    options = [("courier", turn.text("delivery_option_courier")),
               ("pickup_point", turn.text("delivery_option_pickup_point"))]
    if store:
        options.append(("store", turn.text("delivery_option_store")))
    ask(turn, flow, DeliveryQuestion.METHOD, "delivery_ask_method", options, slots)


def ask_day(turn: Turn, flow: str, slots: dict[str, Any], today: date) -> None:
    options = [(day.isoformat(), turn.texts.date(turn.language, day_start(day)))
               for day in working_days(today)]
    ask(turn, flow, DeliveryQuestion.DAY, "delivery_ask_day", options, slots)


class DeliveryQuestion(StrEnum):
    """The steps these questions wait at (the same in every flow that asks them)."""

    METHOD = "method"
    DAY = "day"
    SLOT = "slot"
    STORE = "store"
    POINT = "point"


@dataclass
class _Answer:
    """An answer at one of the questions, with the plan it grows."""

    turn: Turn
    flow: str
    value: str | None  # a button's argument; None for free text
    order: OrderView
    slots: dict[str, Any]
    plan: dict[str, Any]

    @property
    def today(self) -> date:
        return self.turn.shop.today()


Outcome = dict[str, Any] | str | None


async def answer(
    turn: Turn, flow: str, value: str | None, order: OrderView
) -> Outcome:
    """Handle an answer at a delivery step: the complete plan, None when another question
    was asked, or NOT_AN_ANSWER."""
    try:
        question = DeliveryQuestion(turn.state.step or "")
    except ValueError:
        return NOT_AN_ANSWER
    slots = dict(turn.state.slots)
    given = _Answer(turn, flow, value, order, slots, dict(slots.get("plan") or {}))
    return await _ANSWERS[question](given)


async def _method(given: _Answer) -> Outcome:
    turn, flow, slots, plan, order = given.turn, given.flow, given.slots, given.plan, given.order
    value = given.value or picked(turn) or method_word(turn.inbound.text)
    if value is None:
        return NOT_AN_ANSWER
    plan.update(method=value, date=None, slot=None, location=None, location_name=None)
    slots["plan"] = plan
    if value == "courier":
        ask_day(turn, flow, slots, given.today)
    elif value == "pickup_point":
        points = await turn.shop.pickup_points(order.postcode)
        ask(turn, flow, DeliveryQuestion.POINT, "delivery_ask_point",
            [(p.id, f"{p.name}, {p.address}") for p in points], slots)
    else:
        wanted = {line.sku: line.quantity for line in order.lines}
        stores = await turn.shop.stores_with(wanted)
        if not stores:
            turn.say("delivery_no_store")
            ask_method(turn, flow, slots, store=False)
            return None
        ask(turn, flow, DeliveryQuestion.STORE, "delivery_ask_store",
            [(s.id, f"{s.name}, {s.address}") for s in stores], slots)
    return None


async def _day(given: _Answer) -> Outcome:
    turn, slots, plan, today = given.turn, given.slots, given.plan, given.today
    text, delivery_slots = turn.inbound.text, turn.shop.settings.delivery_slots
    chosen = given.value or picked(turn)
    day = date.fromisoformat(chosen) if chosen else parse_day(text, today)
    if day is None:
        return NOT_AN_ANSWER
    if day not in working_days(today, ALLOWED_DAYS):
        turn.say("delivery_bad_day")
        ask_day(turn, given.flow, slots, today)
        return None
    plan["date"] = day.isoformat()
    slots["plan"] = plan
    slot = None if chosen else parse_slot(text, delivery_slots)
    if slot is not None:
        plan["slot"] = slot
        return plan
    ask(turn, given.flow, DeliveryQuestion.SLOT, "delivery_ask_slot",
        [(s, s) for s in delivery_slots], slots,
        date=turn.texts.date(turn.language, day_start(day)))
    return None


async def _slot(given: _Answer) -> Outcome:
    turn, delivery_slots = given.turn, given.turn.shop.settings.delivery_slots
    slot = given.value or picked(turn) or parse_slot(turn.inbound.text, delivery_slots)
    if slot is None or slot not in delivery_slots:
        return NOT_AN_ANSWER
    given.plan["slot"] = slot
    return given.plan


async def _place(given: _Answer) -> Outcome:
    """A store or a pickup point, of those offered."""
    value = given.value or picked(given.turn)
    names = dict((argument, title) for argument, title in given.slots.get("options", []))
    if value is None or value not in names:
        return NOT_AN_ANSWER
    given.plan.update(location=value, location_name=names[value])
    return given.plan


_ANSWERS: dict[DeliveryQuestion, Callable[[_Answer], Awaitable[Outcome]]] = {
    DeliveryQuestion.METHOD: _method,
    DeliveryQuestion.DAY: _day,
    DeliveryQuestion.SLOT: _slot,
    DeliveryQuestion.STORE: _place,
    DeliveryQuestion.POINT: _place,
}


def describe(turn: Turn, plan: dict[str, Any]) -> str:
    method = plan.get("method")
    if method == "courier" and plan.get("date"):
        day = turn.texts.date(turn.language, day_start(date.fromisoformat(plan["date"])))
        return turn.text("delivery_courier_text", date=day, slot=plan.get("slot") or "")
    if method == "pickup_point":
        return turn.text("delivery_point_text", place=plan.get("location_name") or "")
    if method == "store":
        return turn.text("delivery_store_text", place=plan.get("location_name") or "")
    return turn.text("delivery_option_courier")


def to_plan(plan: dict[str, Any]) -> DeliveryPlan:
    return DeliveryPlan(
        method=plan.get("method") or "courier",
        delivery_date=date.fromisoformat(plan["date"]) if plan.get("date") else None,
        delivery_slot=plan.get("slot"),
        pickup_location=plan.get("location"),
    )


def day_start(day: date) -> datetime:
    """The day as a datetime, for Texts.date."""
    return datetime(day.year, day.month, day.day)


def method_word(text: str) -> str | None:
    lowered = text.lower()
    for method, words in (
        ("pickup_point", ("pickup point", "parcel", "locker", "paczkomat", "punkt", "пункт",
                          "постамат")),
        ("store", ("store", "shop", "sklep", "магазин")),
        ("courier", ("courier", "kurier", "курьер", "door", "home", "dom", "дом")),
    ):
        if any(word in lowered for word in words):
            return method
    return None
