"""What the dialog keeps of a conversation, as plain values: no table, no session.

The repositories (dialog/unit_of_work.py) hand these out and take them back; the flows read
and change a ConversationState during a turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialog.attachment_values import AttachmentRef
from dialog.messages import Button, ConversationKey, Delivery, Outbound


@dataclass
class ConversationState:
    """What the dialog remembers of one conversation between turns."""

    id: int
    key: ConversationKey
    customer_id: int | None
    language: str
    status: str
    escalation_reason: str | None = None
    flow: str | None = None
    step: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    verified_orders: list[str] = field(default_factory=list)
    # Orders proven at the strong level (docs/security.md): a verified identity, the chat link
    # sent to the customer, or a one-time code; these may be changed, not only looked at.
    strong_orders: list[str] = field(default_factory=list)
    # Failed proofs in this conversation: at MAX_PROOF_ATTEMPTS (dialog/flows/status.py) it
    # goes to a person and proves nothing more by number and email/postcode.
    proof_failures: int = 0
    misunderstandings: int = 0
    context: dict[str, Any] = field(default_factory=dict)  # the channel's reply context
    # The buttons of the latest message to the customer, [title, payload] each: a reply like
    # "2" or a button's words picks one without reading the transcript.
    offered: list[list[str]] = field(default_factory=list)
    # A flow the customer left for another question ({flow, step, slots, text, buttons,
    # offered}), offered back once the other question is answered.
    suspended: dict[str, Any] | None = None
    # What the latest message proposed ({intents, entities}; dialog/proposals.py): a
    # clarification's meanings or the message's other request, for the next message only.
    proposal: dict[str, Any] | None = None
    # The other request of a message with two ({intent, entities, flow}), offered once the
    # flow of the first is done, dropped when the customer moves on (dialog/manager.py).
    also: dict[str, Any] | None = None
    # When the customer's recent handoffs began (ISO times, the last hour's): a conversation
    # goes to the operators a few times an hour at most (dialog/flows/handoff.py).
    handoffs: list[str] = field(default_factory=list)
    loaded_status: str = "bot"  # the status when loaded: saving "escalated" over "bot" opens
    # a handoff (dialog/store.py)
    fresh: bool = False  # created by this load: its first reply begins the conversation

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "slots": self.slots,
            "verified_orders": self.verified_orders,
            "strong_orders": self.strong_orders,
            "proof_failures": self.proof_failures,
            "misunderstandings": self.misunderstandings,
            "context": self.context,
            "offered": self.offered,
            "suspended": self.suspended,
            "proposal": self.proposal,
            "also": self.also,
            "handoffs": self.handoffs,
        }

    @classmethod
    def from_json(
        cls, id: int, key: ConversationKey, customer_id: int | None, language: str,
        status: str, escalation_reason: str | None, data: dict[str, Any] | None,
    ) -> ConversationState:
        """The state as stored: the conversation's columns and its JSON (to_json's shape)."""
        data = data or {}
        return cls(
            id=id,
            key=key,
            customer_id=customer_id,
            language=language,
            status=status,
            escalation_reason=escalation_reason,
            flow=data.get("flow"),
            step=data.get("step"),
            slots=dict(data.get("slots") or {}),
            verified_orders=list(data.get("verified_orders") or []),
            strong_orders=list(data.get("strong_orders") or []),
            proof_failures=int(data.get("proof_failures") or 0),
            misunderstandings=int(data.get("misunderstandings") or 0),
            context=dict(data.get("context") or {}),
            offered=[list(button) for button in data.get("offered") or ()],
            suspended=data.get("suspended") or None,
            proposal=data.get("proposal") or None,
            also=data.get("also") or None,
            handoffs=[str(at) for at in data.get("handoffs") or ()],
            loaded_status=status,
        )


@dataclass(frozen=True, slots=True)
class RecordedTurn:
    inbound_id: int | None  # the customer's transcript entry
    at: datetime
    deliveries: list[Delivery]
    attachments: tuple[AttachmentRef, ...] = ()  # what the customer's message carried


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    sender: str
    text: str
    buttons: tuple[Button, ...]
    at: datetime
    author: str | None
    attachments: tuple[AttachmentRef, ...] = ()
    rich: dict[str, Any] | None = None  # Outbound.rich of a reply


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A web chat token's conversation and ages (the token itself is never stored)."""

    key: ConversationKey
    conversation_id: int
    created_at: datetime
    last_used_at: datetime


def offered_buttons(replies: list[Outbound]) -> list[list[str]]:
    """The buttons of the last of these messages, as kept in the conversation state."""
    return [[button.title, button.payload] for button in replies[-1].buttons]
