"""Flows stepped with no app and no database: an in-memory shop, the turn's replies read as a
conversation. What the customer sees is asserted; the shop's record says what was done."""

from __future__ import annotations

import pytest

from dialog.flows.cancel import CancelFlow, CancelStep
from dialog.flows.registry import all_flows
from dialog.flows.returns import ReturnFlow, ReturnStep
from dialog.flows.status import StatusFlow, StatusStep
from dialog.flows.steps import FlowData, Step, Steps
from orders.service import LineView
from orders.states import OrderStatus
from tests.dialog.flow_chat import FlowChat, ShopInMemory, order_view


async def test_cancel_asks_and_yes_cancels() -> None:
    shop = ShopInMemory({"A-1002": order_view("A-1002", OrderStatus.CONFIRMED)})
    chat = FlowChat(CancelFlow(), shop, customer_id=7)
    assert await chat.say("please cancel my order", "cancel_order") == (
        "Cancel order A-1002? Please answer yes or no.")
    assert [b.title for b in chat.buttons] == ["Yes, cancel it", "No, keep it"]
    assert chat.state.step == CancelStep.CONFIRM and chat.state.slots == {"number": "A-1002"}
    assert await chat.say("yes", "affirm") == "Order A-1002 is cancelled."
    assert shop.cancelled == ["A-1002"] and chat.state.flow is None


async def test_cancel_no_keeps_the_order_and_a_muddle_is_asked_again() -> None:
    shop = ShopInMemory({"A-1002": order_view("A-1002", OrderStatus.CONFIRMED)})
    chat = FlowChat(CancelFlow(), shop, customer_id=7)
    await chat.say("cancel my order", "cancel_order")
    assert await chat.say("hmm", "out_of_scope", confidence=0.2) == (
        "Sorry, I need a yes or a no: shall I cancel order A-1002?")
    assert [b.title for b in chat.buttons] == ["Yes, cancel it", "No, keep it"]
    assert await chat.press("No, keep it") == "All right, order A-1002 stays as it is."
    assert shop.cancelled == [] and chat.state.flow is None


async def test_a_shipped_order_is_not_cancelled_and_a_return_is_offered() -> None:
    shop = ShopInMemory({"A-1003": order_view("A-1003", OrderStatus.SHIPPED)})
    chat = FlowChat(CancelFlow(), shop, customer_id=7)
    reply = await chat.say("cancel A-1003", "cancel_order")
    assert reply.startswith("Order A-1003 has already been shipped")
    assert "Return it instead" in [b.title for b in chat.buttons]
    assert next(b.payload for b in chat.buttons if b.title == "Return it instead") == (
        "returns:order:A-1003")
    assert shop.cancelled == []


async def test_a_stranger_is_asked_for_proof_before_anything_is_told() -> None:
    shop = ShopInMemory({"A-1002": order_view("A-1002", OrderStatus.CONFIRMED)})
    chat = FlowChat(CancelFlow(), shop)
    reply = await chat.say("cancel A-1002", "cancel_order")
    assert "A-1002" in reply and "Cancel order" not in reply
    assert chat.state.step == CancelStep.NEED_PROOF and shop.cancelled == []


async def test_a_return_goes_from_the_line_and_reason_to_the_label() -> None:
    mugs = (LineView("MUG-1", "Blue mug", 1, 4990),)
    shop = ShopInMemory({"A-1015": order_view("A-1015", OrderStatus.DELIVERED, lines=mugs)})
    chat = FlowChat(ReturnFlow(), shop, customer_id=7)
    reply = await chat.say("I want to return my order", "return_order")
    assert reply.startswith("You can return items from order A-1015 until")
    assert "1. Blue mug × 1" in reply
    assert (await chat.press("Blue mug")).startswith("Why are you returning 1 × Blue mug?")
    assert chat.state.step == ReturnStep.REASON
    assert await chat.say("it arrived cracked", "out_of_scope", confidence=0.3) == (
        "How would you like to send the items back?")
    reply = await chat.press("Courier pickup")
    assert reply.startswith("Done! Your return R-0001 for order A-1015 is registered")
    assert "https://shop.test/labels/R-0001.pdf" in reply
    assert "Main St 1, 10115, Berlin" in reply
    assert shop.returns == [("A-1015", {1: 1}, "it arrived cracked", "courier_pickup")]
    assert shop.told_owner == ["notice_return_opened"]  # the customer hears where they read
    assert chat.state.flow is None


async def test_a_return_saved_by_the_previous_version_resumes() -> None:
    """Plain dict slots with the old step string, as a conversation saved mid-flow has."""
    shop = ShopInMemory({"A-1015": order_view("A-1015", OrderStatus.DELIVERED)})
    chat = FlowChat(ReturnFlow(), shop, customer_id=7)
    state = chat.state
    state.flow, state.step = "returns", "reason"
    state.slots = {"number": "A-1015", "chosen": {"1": 1}}
    assert await chat.say("too small", "out_of_scope", confidence=0.3) == (
        "How would you like to send the items back?")
    assert state.slots == {"number": "A-1015", "chosen": {"1": 1}, "reason": "too small"}


async def test_a_saved_step_no_longer_declared_is_no_answer() -> None:
    shop = ShopInMemory({})
    chat = FlowChat(CancelFlow(), shop, customer_id=7)
    chat.state.flow, chat.state.step, chat.state.slots = "cancel", "gone_step", {"x": 1}
    # Not an answer to anything: the flow starts afresh, and nothing is cancelled.
    assert await chat.say("yes", "cancel_order") == (
        "I can't see any orders for you yet. If you ordered as a guest, tell me the order number.")
    assert chat.state.step == CancelStep.NEED_NUMBER and shop.cancelled == []


def test_a_table_without_a_handler_for_a_step_is_refused_when_built() -> None:
    async def handler(turn: object, data: FlowData) -> bool:
        return True

    with pytest.raises(ValueError, match="confirm"):
        Steps("cancel", CancelStep, FlowData, {CancelStep.NEED_NUMBER: Step(handler)})


def test_every_flow_is_built_by_the_registry() -> None:
    names = [flow.name for flow in all_flows()]
    assert len(names) == len(set(names))
    assert {"status", "cancel", "returns", "payment", "delivery", "confirm"} <= set(names)


async def test_status_is_told_and_another_order_is_asked_for() -> None:
    shop = ShopInMemory({"A-1002": order_view("A-1002", OrderStatus.CONFIRMED)})
    chat = FlowChat(StatusFlow(), shop, customer_id=7)
    reply = await chat.say("where is my order", "order_status")
    assert reply.startswith("Order A-1002 is confirmed and being prepared for dispatch.")
    assert await chat.press("Another order") == (
        "Sure! What is your order number? It looks like A-1001 and is in your order email.")
    assert (chat.state.flow, chat.state.step) == ("status", StatusStep.NEED_NUMBER)
