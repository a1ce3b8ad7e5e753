"""Which order the customer means, and proof that it is theirs: the one sub-flow that status,
cancel, delivery, payment and returns use to find an order (there is no other way).

An order is shown only to its owner: a verified customer (web chat identity, linked chat), or
someone who gives the order number together with the order's email address or postcode.
Unknown numbers and wrong proofs get the same answer, so order numbers cannot be probed.

One message proves at most one order with one proof: only its first order number is looked
at, and a message with several emails/postcodes proves nothing ("one at a time") and counts as
a failure, so that a list of guesses costs as many tries as the guesses. Failures are counted
per conversation (MAX_PROOF_ATTEMPTS: a person takes over, and proving stops there), and per
order and per client across sessions and processes (dialog/proof_limits.py).

The strong level of proof (docs/security.md) is what a changed delivery address or method, a
refunded cancellation and a return need beyond the order number and its email/postcode. An
order is strongly the customer's in a conversation of theirs (a verified identity: the
state's customer_id), one its chat link opened, or one that typed the one-time code sent to
the customer's own channel (the order's email address first; never the asking chat). Only a
hash of the code is kept, in the flow's slots, with its expiry and tries; wrong codes count
as failed proofs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from dialog.flows.base import Turn, human_button
from dialog.flows.escalation import hand_over
from dialog.flows.steps import Step
from orders.service import OrderView, customer_of, proven_by
from storage.clock import utcnow

log = logging.getLogger(__name__)



class IdentifyStep(StrEnum):
    """The steps at which a flow waits while this sub-flow asks: a flow that uses it declares
    the same values among its own steps and hands them to OrderIdentification.answer (the
    first three) or answer_code (NEED_CODE)."""

    NEED_NUMBER = "need_number"
    NEED_PROOF = "need_proof"  # slots: number
    CHOOSE = "choose"  # buttons "<flow>:<number>" of a verified customer's orders
    NEED_CODE = "need_code"  # slots: number, then, code (a hash, its expiry and tries)


CODE_STEP = IdentifyStep.NEED_CODE
CODE_MINUTES = 10
CODE_TRIES = 3
_CODE = re.compile(r"^\D{0,20}?(\d{3})[ -]?(\d{3})\D{0,20}$")
MAX_PROOF_ATTEMPTS = 3
MAX_CHOICES = 6
ORDER_INTENTS = frozenset({
    "order_status", "cancel_order", "change_delivery", "return_order", "payment", "human",
})
LEAVE_CONFIDENCE = 0.8
_SHORT_ANSWER = 12  # a reply this short may be a postcode the extractor did not recognise


def owns(turn: Turn, order: OrderView) -> bool:
    return order.number in turn.state.verified_orders or (
        turn.state.customer_id is not None and turn.state.customer_id == order.customer_id
    )


def numbers(turn: Turn) -> list[str]:
    """The first order number of the message (and its other spelling: "A1001", "A-1001");
    the numbers after it are not looked at."""
    if turn.understanding is None:
        return []
    return first_number(list(turn.understanding.entities.order_numbers))


def first_number(found: list[str]) -> list[str]:
    if len(found) > 1 and found[1].replace("-", "") == found[0]:
        return found[:2]  # the two candidates of one token (entities.py)
    return found[:1]


def proofs(turn: Turn, loose: bool) -> list[str]:
    if turn.understanding is None:
        return []
    entities = turn.understanding.entities
    found = [*entities.emails, *entities.postcodes]
    text = turn.inbound.text.strip()
    if loose and not found and 3 <= len(text) <= _SHORT_ANSWER:
        found.append(text)
    return found


class OrderIdentification:
    """Which order the customer means, shown to be theirs before anything is told or changed.

    While it asks, the flow named `flow` waits at step "need_number", "need_proof" (slots:
    number) or "choose"; the flow's resume hands those steps to `answer`. A verified
    customer with several orders gets buttons "<flow>:<number>" (step "choose"); the flow's
    on_action hands the number to `find`. A flow that keeps slots of its own while it asks
    (payment's topic) passes them to `find`/`answer`; one with its own wording passes the
    text keys for the proof question and the mismatch.
    """

    STEPS = frozenset({IdentifyStep.NEED_NUMBER, IdentifyStep.NEED_PROOF, IdentifyStep.CHOOSE})

    def __init__(
        self, flow: str, intents: frozenset[str] = frozenset(), *,
        ask_proof_key: str = "ask_proof", mismatch_key: str = "proof_mismatch",
    ) -> None:
        self.flow = flow
        self.intents = intents  # the flow's own: a number given with another is not an answer
        self.ask_proof_key = ask_proof_key
        self.mismatch_key = mismatch_key

    async def start(self, turn: Turn) -> OrderView | None:
        """The order the customer's message names (or theirs); None if a question was asked."""
        return await self.find(turn, numbers(turn), proofs(turn, loose=False))

    def step(self, then: Callable[[Turn, OrderView], Awaitable[None]]) -> Step[Any]:
        """The handler of the flow's identification steps: `then` with the order once found
        and proven; False when the message is no answer."""
        async def identified(turn: Turn, data: object) -> bool:
            answered, order = await self.answer(turn)
            if order is not None:
                await then(turn, order)
            return answered
        return Step(identified)

    async def answer(self, turn: Turn, **slots: Any) -> tuple[bool, OrderView | None]:
        """An answer to this flow's question: (False, None) if the message is none."""
        if self._leaves(turn):
            return False, None
        found = numbers(turn)
        if turn.state.step in (IdentifyStep.NEED_NUMBER, IdentifyStep.CHOOSE):
            if not found:
                return False, None
            return True, await self.find(turn, found, proofs(turn, loose=False), **slots)
        if turn.state.step == IdentifyStep.NEED_PROOF:
            given = proofs(turn, loose=True)
            # "10115" may be a postcode or an order number: as an answer it is the proof.
            found = [number for number in found if number not in given]
            if not given:
                if not found:
                    return False, None
                return True, await self.find(turn, found, [], **slots)
            number = turn.state.slots["number"]
            return True, await self.find(turn, found or [number], given, **slots)
        return False, None

    def _leaves(self, turn: Turn) -> bool:
        """"Where is A-1015?" while cancelling: a question for another flow, not an answer."""
        understanding = turn.understanding
        return (
            understanding is not None
            and understanding.confidence >= LEAVE_CONFIDENCE
            and understanding.intent in ORDER_INTENTS
            and understanding.intent not in self.intents
        )

    async def find(
        self, turn: Turn, numbers: list[str], proofs: list[str], **slots: Any
    ) -> OrderView | None:
        """The order of the first of `numbers` if the customer owns it or proves it with
        `proofs`; without numbers, theirs. None if a question was asked (the flow then waits
        with `slots` kept)."""
        state = turn.state
        numbers = first_number(numbers)
        read: dict[str, OrderView | None] = {}  # proven below without reading them again
        for number in numbers:
            order = read[number] = await turn.shop.get_order(number)
            if order is not None and owns(turn, order):
                return order
        if not numbers:
            if state.customer_id is not None:
                return await self._customer_order(turn, **slots)
            if state.verified_orders:
                order = await turn.shop.get_order(state.verified_orders[-1])
                if order is not None:
                    return order
            turn.enter(self.flow, IdentifyStep.NEED_NUMBER, **slots)
            turn.say("ask_order_number")
            return None
        proofs = [proof for proof in proofs if proof not in numbers]  # "10115": one or other
        if not proofs:
            turn.enter(self.flow, IdentifyStep.NEED_PROOF, **slots, number=numbers[0])
            turn.say(self.ask_proof_key, number=numbers[0])
            return None
        return await self._prove(turn, numbers, proofs, read, **slots)

    async def _prove(
        self, turn: Turn, numbers: list[str], proofs: list[str],
        read: dict[str, OrderView | None], **slots: Any
    ) -> OrderView | None:
        state, number = turn.state, numbers[0]
        limits = turn.shop.proof_limits
        if state.proof_failures >= MAX_PROOF_ATTEMPTS or await limits.locked(
            number, turn.inbound
        ):  # nothing is checked: the answer is the same whatever the proof
            turn.finish()
            turn.say("proof_locked", human_button(turn))
            return None
        if len(proofs) > 1:
            await self._failed(turn, number, "proof_one_at_a_time", **slots)
            return None
        for candidate in numbers:
            if candidate in read:  # read in this transaction: Shop.verified_order's answer
                known = read[candidate]
                order = known if known is not None and proven_by(known, proofs) else None
            else:
                order = await turn.shop.verified_order(candidate, proofs)
            if order is not None:
                await limits.succeeded(number)
                if order.number not in state.verified_orders:
                    state.verified_orders.append(order.number)
                return order
        await self._failed(turn, number, self.mismatch_key, **slots)
        return None

    async def _failed(self, turn: Turn, number: str, key: str, **slots: Any) -> None:
        state = turn.state
        await turn.shop.proof_limits.failed(number, turn.inbound)
        state.proof_failures += 1
        log.debug("failed proof %d of order %s", state.proof_failures, number)
        if state.proof_failures >= MAX_PROOF_ATTEMPTS:
            hand_over(turn, "verification_failed", key="proof_failed_handoff")
            return None
        turn.enter(self.flow, IdentifyStep.NEED_PROOF, **slots, number=number)
        turn.say(key, human_button(turn), number=number)
        return None

    async def _customer_order(self, turn: Turn, **slots: Any) -> OrderView | None:
        assert turn.state.customer_id is not None
        orders = await turn.shop.orders_of_customer(turn.state.customer_id)
        if not orders:
            turn.enter(self.flow, IdentifyStep.NEED_NUMBER, **slots)
            turn.say("no_orders")
            return None
        if len(orders) == 1:
            return orders[0]
        turn.enter(self.flow, IdentifyStep.CHOOSE, **slots)
        buttons = [turn.button_plain(order.number, f"{self.flow}:{order.number}")
                   for order in orders]
        turn.say("choose_order", *buttons[:MAX_CHOICES])
        return None


def strongly_owns(turn: Turn, order: OrderView) -> bool:
    state = turn.state
    return order.number in state.strong_orders or (
        state.customer_id is not None and state.customer_id == order.customer_id
    )


async def ask_code(turn: Turn, flow: str, order: OrderView, then: str,
                   **slots: Any) -> None:
    """Send a one-time code to the order's customer and wait for it at CODE_STEP; once it is
    typed, the flow's resume continues with `then` (the slots kept as given)."""
    number = order.number
    limits = turn.shop.proof_limits
    if await limits.code_refused(number, turn.inbound):
        turn.finish()
        return turn.say("proof_locked", human_button(turn))
    code = f"{secrets.randbelow(1_000_000):06d}"
    sent = await turn.shop.tell_owner(
        customer_of(order), "code_message", avoid=turn.state.id,
        channel="email", number=number, code=code, minutes=CODE_MINUTES,
    )
    if sent is None:  # the customer's only conversation is this one: nobody else to ask
        return hand_over(turn, "code_unreachable", key="code_unreachable")
    salt = secrets.token_hex(8)
    expires = (utcnow() + timedelta(minutes=CODE_MINUTES)).isoformat()
    turn.enter(flow, CODE_STEP, **slots, number=number, then=then,
               code={"salt": salt, "hash": _hash(code, salt), "expires": expires, "tries": 0})
    turn.say("code_sent", human_button(turn), number=number, minutes=CODE_MINUTES)


async def answer_code(turn: Turn) -> str | None:
    """The customer's message at CODE_STEP: the `then` to continue with once the code is
    right (the order is then strong here, and the slots are those given to ask_code); None
    when the turn was answered otherwise (wrong, expired)."""
    state = turn.state
    slots = dict(state.slots)
    number = str(slots["number"])
    code = dict(slots["code"])
    match = _CODE.match(turn.inbound.text.strip())
    if match is None:  # the flows hand over only codes (is_code_answer)
        return None
    limits = turn.shop.proof_limits
    if await limits.locked(number, turn.inbound):
        turn.finish()
        turn.say("proof_locked", human_button(turn))
        return None
    if utcnow().isoformat() > code["expires"]:
        turn.finish()
        turn.say("code_expired", human_button(turn), number=number)
        return None
    if not secrets.compare_digest(_hash("".join(match.groups()), code["salt"]), code["hash"]):
        await limits.failed(number, turn.inbound, level="code")
        code["tries"] = int(code["tries"]) + 1
        if code["tries"] >= CODE_TRIES:
            turn.finish()
            turn.say("code_used_up", human_button(turn), number=number)
            return None
        state.slots = {**slots, "code": code}
        turn.say("code_wrong", human_button(turn), number=number)
        return None
    await limits.succeeded(number)
    if number not in state.strong_orders:
        state.strong_orders.append(number)
    if number not in state.verified_orders:
        state.verified_orders.append(number)
    then = str(slots.pop("then"))
    slots.pop("code")
    state.slots = slots
    return then


def is_code_answer(turn: Turn) -> bool:
    """"123456", "123 456": what CODE_STEP waits for (anything else may be another question)."""
    return _CODE.match(turn.inbound.text.strip()) is not None


def _hash(code: str, salt: str) -> str:
    """A keyed hash, so that the state row does not show the code. No key stretching: it would
    cost the event loop tens of milliseconds a turn and buy nothing against a million
    candidates; what guards the code is its 10 minutes and 3 tries."""
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()
