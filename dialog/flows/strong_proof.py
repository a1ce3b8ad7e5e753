"""The strong level of proof (docs/security.md): what a changed delivery address or method, a
refunded cancellation and a return need beyond the order number and its email/postcode.

An order is strongly the customer's in a conversation of theirs (a verified identity: the
state's customer_id), one its chat link opened, or one that typed the one-time code sent to
the customer's own channel (the order's email address first; never the asking chat). Only a
hash of the code is kept, in the flow's slots, with its expiry and tries; wrong codes count
as failed proofs (dialog/proof_limits.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from dialog.flows.base import Turn, human_button
from dialog.flows.handoff import hand_over
from orders.service import OrderView, customer_of
from storage.clock import utcnow

CODE_STEP = "need_code"
CODE_MINUTES = 10
CODE_TRIES = 3
_CODE = re.compile(r"^\D{0,20}?(\d{3})[ -]?(\d{3})\D{0,20}$")


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
    if await limits.locked(number, turn.inbound) or not await limits.code_allowed(number):
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
