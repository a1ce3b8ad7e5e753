"""Where is my order: find the order, make sure it is the customer's, tell its status.

An order is shown only to its owner: a verified customer (web chat identity, linked chat), or
someone who gives the order number together with the order's email address or postcode.
Unknown numbers and wrong proofs get the same answer, so order numbers cannot be probed.
"""

from __future__ import annotations

from dialog.flows.base import Turn, human_button
from dialog.flows.handoff import hand_over
from orders.service import OrderView
from orders.states import OrderStatus

MAX_PROOF_ATTEMPTS = 3
ANOTHER = "another"  # the "Another order" button's argument (order numbers have digits)
_SHORT_ANSWER = 12  # a reply this short may be a postcode the extractor did not recognise


class StatusFlow:
    name = "status"
    intents = frozenset({"order_status"})

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        await self._answer(turn, self._numbers(turn), self._proofs(turn, loose=False))

    async def resume(self, turn: Turn) -> bool:
        numbers = self._numbers(turn)
        if turn.state.step == "need_number":
            if not numbers:
                return False
            await self._answer(turn, numbers, self._proofs(turn, loose=False))
            return True
        if turn.state.step == "need_proof":
            proofs = self._proofs(turn, loose=True)
            # "10115" may be a postcode or an order number: as an answer it is the proof.
            numbers = [number for number in numbers if number not in proofs]
            if not proofs:
                if not numbers:
                    return False
                await self._answer(turn, numbers, [])
                return True
            await self._answer(turn, numbers or [turn.state.slots["number"]], proofs)
            return True
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        if argument == ANOTHER:  # not the order just told: ask which one
            turn.enter(self.name, "need_number")
            return turn.say("ask_order_number")
        await self._answer(turn, [argument], [])

    async def _answer(self, turn: Turn, numbers: list[str], proofs: list[str]) -> None:
        state = turn.state
        for number in numbers:
            order = await turn.orders.get_order(turn.session, number)
            if order is not None and self._owns(turn, order):
                return self._tell(turn, order)
        if not numbers:
            if state.customer_id is not None:
                return await self._tell_customer_orders(turn)
            if state.verified_orders:
                order = await turn.orders.get_order(turn.session, state.verified_orders[-1])
                if order is not None:
                    return self._tell(turn, order)
            turn.enter(self.name, "need_number")
            return turn.say("ask_order_number")
        if not proofs:
            turn.enter(self.name, "need_proof", number=numbers[0], attempts=0)
            return turn.say("ask_proof", number=numbers[0])
        for number in numbers:
            order = await turn.orders.verified_order(turn.session, number, proofs)
            if order is not None:
                if order.number not in state.verified_orders:
                    state.verified_orders.append(order.number)
                return self._tell(turn, order)
        attempts = int(state.slots.get("attempts", 0)) + 1
        if attempts >= MAX_PROOF_ATTEMPTS:
            return hand_over(turn, "verification_failed", key="proof_failed_handoff")
        turn.enter(self.name, "need_proof", number=numbers[0], attempts=attempts)
        turn.say("proof_mismatch", human_button(turn), number=numbers[0])

    async def _tell_customer_orders(self, turn: Turn) -> None:
        assert turn.state.customer_id is not None
        orders = await turn.orders.orders_of_customer(turn.session, turn.state.customer_id)
        if not orders:
            turn.enter(self.name, "need_number")
            return turn.say("no_orders")
        if len(orders) == 1:
            return self._tell(turn, orders[0])
        turn.finish()
        buttons = [turn.button_plain(order.number, f"status:{order.number}") for order in orders]
        turn.say("choose_order", *buttons[:6])

    def _tell(self, turn: Turn, order: OrderView) -> None:
        turn.finish()
        number = order.number
        buttons = (turn.button("button_other_order", f"{self.name}:{ANOTHER}"), human_button(turn))
        if order.status is OrderStatus.SHIPPED:
            if order.tracking_number:
                return turn.say(
                    "status_shipped",
                    *buttons,
                    number=number,
                    carrier=order.carrier or "-",
                    tracking_number=order.tracking_number,
                    tracking_url=order.tracking_url or "-",
                )
            return turn.say("status_shipped_untracked", *buttons, number=number)
        if order.status is OrderStatus.DELIVERED:
            moment = order.delivered_at or order.created_at
            when = turn.texts.date(turn.language, moment)
            return turn.say("status_delivered", *buttons, number=number, date=when)
        turn.say(f"status_{order.status.value}", *buttons, number=number)

    @staticmethod
    def _owns(turn: Turn, order: OrderView) -> bool:
        return order.number in turn.state.verified_orders or (
            turn.state.customer_id is not None and turn.state.customer_id == order.customer_id
        )

    @staticmethod
    def _numbers(turn: Turn) -> list[str]:
        if turn.understanding is None:
            return []
        return list(turn.understanding.entities.order_numbers)

    @staticmethod
    def _proofs(turn: Turn, loose: bool) -> list[str]:
        if turn.understanding is None:
            return []
        entities = turn.understanding.entities
        proofs = [*entities.emails, *entities.postcodes]
        text = turn.inbound.text.strip()
        if loose and not proofs and 3 <= len(text) <= _SHORT_ANSWER:
            proofs.append(text)
        return proofs
