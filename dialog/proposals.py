"""What the bot's last message proposed to do: the meanings a clarifying question offered, or
the customer's other request of the same message ("You also asked where A-1002 is — shall I
check?"). Kept in the conversation state for the next message only, with the entities the
customer wrote (order numbers, e-mails, postcodes), so that the flow a button starts does not
ask again for a number already given. dialog/manager.py answers it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from dialog.flows.base import Turn
from dialog.messages import Button
from dialog.nlu import Entities, Understanding

PROPOSAL = "propose"  # button payload "propose:<intent>" starts that intent's flow
DECLINE = f"{PROPOSAL}:no"


def propose(turn: Turn, intents: list[str], entities: Entities) -> None:
    turn.state.proposal = {"intents": intents, "entities": entities_to_json(entities)}


def proposal_button(turn: Turn, key: str, intent: str) -> Button:
    return turn.button(key, f"{PROPOSAL}:{intent}")


def proposed_entities(proposal: dict[str, Any] | None, intent: str) -> Entities:
    """What the customer wrote with the request now picked (nothing for an old button)."""
    if proposal is None or intent not in proposal.get("intents", ()):
        return Entities((), (), ())
    return entities_from_json(proposal.get("entities") or {})


def hold_also(turn: Turn, request: Understanding, flow: str) -> None:
    """Keep the message's next request until `flow` (the first request's) is done."""
    turn.state.also = {
        "intent": request.intent, "entities": entities_to_json(request.entities), "flow": flow,
    }


def carry_on(
    turn: Turn, handled_by: str | None, no_flow: Collection[str | None], just_held: bool
) -> bool:
    """Offer the held request once the first request's flow is done; True if offered.

    While that flow still asks (a proof, a confirmation), the request waits, and the customer
    is told at once that the other request is not forgotten. An answer that starts no flow
    (`no_flow`: not understood, a clarifying question) keeps it waiting; anything else the
    customer moves on to, or a person taking over, drops it.
    """
    state, also = turn.state, turn.state.also
    if also is None:
        return False
    if state.status != "bot" or (handled_by != also["flow"] and handled_by not in no_flow):
        state.also = None
        return False
    if handled_by != also["flow"] or state.flow is not None:
        if just_held and turn.replies:  # in the first reply: email sends each as a mail
            first = turn.replies[0]
            turn.replies[0] = replace(first, text=f"{turn.text('also_later')}\n{first.text}")
        return False
    state.also = None
    intent, entities = also["intent"], entities_from_json(also["entities"])
    propose(turn, [intent], entities)
    key = f"also_{intent}"
    number = entities.order_numbers[0] if entities.order_numbers else None
    if number is not None and turn.texts.has(state.language, f"{key}_number"):
        key = f"{key}_number"
    turn.say(key, proposal_button(turn, "also_button_yes", intent),
             turn.button("also_button_no", DECLINE), number=number)
    return True


def entities_to_json(entities: Entities) -> dict[str, list[str]]:
    return {
        "order_numbers": list(entities.order_numbers),
        "emails": list(entities.emails),
        "postcodes": list(entities.postcodes),
    }


def entities_from_json(data: dict[str, Any]) -> Entities:
    return Entities(
        order_numbers=tuple(data.get("order_numbers") or ()),
        emails=tuple(data.get("emails") or ()),
        postcodes=tuple(data.get("postcodes") or ()),
    )
