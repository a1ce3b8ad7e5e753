"""What the operators' desk tells and refuses: the values its clients (the console, the
Slack operators channel) see, apart from the desk itself (dialog/desk.py), so that a client
depends on them and on the Desk protocol (dialog/seam.py) only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialog.attachment_values import AttachmentRef
from dialog.messages import Button
from storage.clock import utcnow


@dataclass(frozen=True)
class OperatorRef:
    """An operator as the desk knows them: a key ("console:3", "slack:U1") and the name the
    customer sees."""

    key: str
    name: str


@dataclass(frozen=True)
class TranscriptLine:
    id: int
    conversation_id: int
    channel: str
    sender: str  # customer | bot | operator
    author: str | None
    text: str
    at: datetime
    buttons: tuple[Button, ...] = ()
    attachments: tuple[AttachmentRef, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "conversation_id": self.conversation_id, "channel": self.channel,
            "from": self.sender, "author": self.author, "text": self.text,
            "at": self.at.isoformat(),
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "attachments": [a.to_json() for a in self.attachments],
        }


@dataclass(frozen=True)
class QueueItem:
    conversation_id: int
    channel: str
    language: str
    status: str  # bot | escalated | claimed
    reason: str | None
    customer_id: int | None
    customer_name: str | None
    customer_email: str | None
    handoff_id: int | None
    escalated_at: datetime | None
    claimed_at: datetime | None
    operator: OperatorRef | None
    last_message: TranscriptLine | None
    # Orders the customer proved in this conversation (number + postcode or email): an
    # anonymous chat's orders, which the operator may see and act on like the customer's own.
    proven_orders: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the operators' free tags, sorted (dialog/tags.py)
    # The customer's own latest words (not the bot's boilerplate): what the queue previews.
    customer_said: TranscriptLine | None = None

    def waiting_seconds(self, now: datetime) -> int:
        """How long the customer has waited for a person (0 when nobody is waited for)."""
        if self.status != "escalated" or self.escalated_at is None:
            return 0
        return max(0, int((now - self.escalated_at).total_seconds()))

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        return {
            "id": self.conversation_id,
            "channel": self.channel,
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
            # id is None for an anonymous chat whose customer proved an order: the name and
            # email are that order's customer's
            "customer": {"id": self.customer_id, "name": self.customer_name,
                         "email": self.customer_email}
            if self.customer_id or self.customer_name or self.customer_email else None,
            "escalated_at": self.escalated_at.isoformat() if self.escalated_at else None,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "waiting_seconds": self.waiting_seconds(now),
            "operator": {"key": self.operator.key, "name": self.operator.name}
            if self.operator else None,
            "last_message": self.last_message.to_json() if self.last_message else None,
            "proven_orders": list(self.proven_orders),
            "tags": list(self.tags),
            "customer_message": self.customer_said.to_json() if self.customer_said else None,
            "order": self.proven_orders[-1] if self.proven_orders else None,
        }


VIEWS = ("open", "mine", "unassigned", "closed", "all")


@dataclass(frozen=True)
class QueueFilter:
    """Which conversations an operator browses: a view (open: escalated or claimed; mine:
    claimed by `operator_key`; unassigned: escalated; closed: back with the bot after a person
    had it; all), narrowed by channel, language and tag; a page of them, newest first."""

    view: str = "open"
    operator_key: str = ""
    channel: str | None = None
    language: str | None = None
    tag: str | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class Found:
    """A conversation a search found, and what matched: "customer" (name or email), "order"
    (its number), "message" (a line said in it; `snippet` is the newest such line)."""

    item: QueueItem
    matched: tuple[str, ...]
    snippet: TranscriptLine | None = None

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        return {"conversation": self.item.to_json(now), "matched": list(self.matched),
                "snippet": self.snippet.to_json() if self.snippet else None}


@dataclass(frozen=True)
class Note:
    id: int
    conversation_id: int
    author: str
    text: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "conversation_id": self.conversation_id, "author": self.author,
                "text": self.text, "at": self.at.isoformat()}


class DeskError(Exception):
    """Something an operator asked for that cannot be done; the text says why."""


class NotFound(DeskError):
    pass


class AlreadyTaken(DeskError):
    def __init__(self, holder: OperatorRef) -> None:
        super().__init__(f"already taken by {holder.name}")
        self.holder = holder


class NotHeld(DeskError):
    """The operator does not hold the conversation (claim it first)."""


Listener = Callable[[dict[str, Any]], Awaitable[None]]
