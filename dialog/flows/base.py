"""What a flow works with during one turn, and the shape every flow has."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dialog.events import PendingEvent
from dialog.flows.shop import Shop
from dialog.messages import Button, Inbound, Outbound
from dialog.nlu import Understanding
from dialog.state import ConversationState
from dialog.texts import Texts


@dataclass
class Turn:
    """One customer message being answered: flows read it, change state and say things."""

    inbound: Inbound
    understanding: Understanding | None
    state: ConversationState
    shop: Shop  # the shop's use cases in this turn's one transaction
    texts: Texts
    shop_name: str
    replies: list[Outbound] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)  # written with the transcript
    misunderstood: bool = False  # the fallback answered: nothing understood the message
    # Guards against abuse that refused something in this turn (their reasons, for /metrics).
    refused: list[str] = field(default_factory=list)
    # Messages to other conversations (news of a change to the customer), written in the same
    # transaction once this turn's replies are: the customer's answer goes out first.
    afterwards: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.state.language

    def text(self, key: str, **params: object) -> str:
        return self.texts.get(self.state.language, key, **params)

    def money(self, minor: int, currency: str) -> str:
        return self.texts.money(self.state.language, minor, currency)

    def button(self, key: str, payload: str, **params: object) -> Button:
        return Button(self.text(key, **params), payload)

    def button_plain(self, title: str, payload: str) -> Button:
        return Button(title, payload)

    def say(self, key: str, *buttons: Button, **params: object) -> None:
        self.replies.append(
            Outbound(key=self.state.key, text=self.text(key, **params), buttons=buttons)
        )

    def record(self, kind: str, subject: str | None = None, value: int | None = None,
               handoff_id: int | None = None) -> None:
        """Note an outcome for the reports (dialog/events.py), written with this turn."""
        self.events.append(PendingEvent(kind, subject, value, handoff_id))

    def enter(self, flow: str, step: str, **slots: Any) -> None:
        """Make `flow` the active flow, waiting at `step` for the customer's next message.
        A declared step (a StrEnum) is kept as its plain string, as the state stores it."""
        self.state.flow, self.state.step, self.state.slots = flow, str(step), dict(slots)

    def finish(self) -> None:
        self.state.flow, self.state.step, self.state.slots = None, None, {}

    def escalate(self, reason: str) -> bool:
        """Queue the conversation for an operator; False if it was queued already."""
        self.finish()
        if self.state.status != "bot":
            return False
        self.state.status = "escalated"
        self.state.escalation_reason = reason
        return True


class Flow(Protocol):
    name: str
    intents: frozenset[str]  # the intents that start this flow

    async def start(self, turn: Turn, intent: str) -> None:
        """The customer asked for this flow (by intent or by a button)."""

    async def resume(self, turn: Turn) -> bool:
        """The customer answered this flow's question; False if the message is not an answer."""
        ...

    async def on_action(self, turn: Turn, argument: str) -> None:
        """A button of this flow was pressed (payload "<flow name>:<argument>")."""


def track_button(turn: Turn) -> Button:
    return turn.button("button_track", "intent:order_status")


def human_button(turn: Turn) -> Button:
    return turn.button("button_human", "intent:human")
