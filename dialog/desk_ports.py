"""The ports of the operators' queue: handoffs, the queue as the desk and the wait estimate
see it, and operators' notes. Part of a unit of work (dialog/unit_of_work.py); the SQL is in
storage/repositories/, the in-memory versions in tests/fakes/unit_of_work.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialog.desk_values import Found, Note, OperatorRef, QueueFilter, QueueItem, TranscriptLine
from dialog.messages import ConversationKey


@dataclass(frozen=True)
class OpenHandoff:
    """A conversation's handoff that has not ended: who holds it and since when."""

    id: int
    conversation_id: int
    claimed_at: datetime | None
    operator: OperatorRef | None  # None: nobody holds it
    last_reply_at: datetime | None

    @property
    def quiet_since(self) -> datetime | None:
        """When the operator last wrote (or claimed it): what idleness is measured from."""
        return self.last_reply_at or self.claimed_at


class Handoffs(Protocol):
    async def open(
        self, conversation_id: int, reason: str, now: datetime, flow: str | None
    ) -> int:
        """Record an escalation (the caller has just moved the conversation out of "bot")."""
        ...

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        """The conversation's newest handoff that has not ended."""
        ...

    async def assign(self, conversation_id: int, operator: OperatorRef, now: datetime) -> None:
        """The operator holds the open handoff from `now`."""
        ...

    async def replied(self, conversation_id: int, now: datetime) -> None:
        """The operator wrote to the customer (the first reply's time is kept)."""
        ...

    async def reassign(self, conversation_id: int, operator: OperatorRef) -> None:
        """Another operator holds the open handoff from now on (a transfer): its claim time,
        and so its handling time, stay those of the first claim."""
        ...

    async def requeue(self, handoff_id: int) -> None:
        """Nobody holds the handoff any more; it counts one more re-queueing."""
        ...

    async def end(self, conversation_id: int, outcome: str, now: datetime) -> None:
        """End the open handoff: handed_back | resolved."""
        ...


class HandoffQueue(Protocol):
    """The operators' queue: its conversations as the desk shows them, and the figures a wait
    estimate needs."""

    async def key(self, conversation_id: int) -> ConversationKey | None: ...

    async def take(self, conversation_id: int, now: datetime) -> bool:
        """Move the conversation from "bot" or "escalated" to "claimed"; False if it was not
        in either (one of two operators on any process wins)."""
        ...

    async def items(self, state: str, limit: int) -> list[QueueItem]:
        """escalated: waiting, oldest first; claimed: held, longest first; anything else:
        the `limit` most recently active conversations."""
        ...

    async def item(self, conversation_id: int) -> QueueItem | None: ...

    async def browse(self, chosen: QueueFilter) -> list[QueueItem]:
        """The filter's page of conversations, most recently active first (one more than
        `limit` when there are more)."""
        ...

    async def search(self, text: str, offset: int, limit: int) -> list[Found]:
        """Conversations whose customer's name or email, an order's number (of the customer,
        or proven in the conversation) or a line said in them contains `text` (in any case),
        most recently active first; one more than `limit` when there are more."""
        ...

    async def lines(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        """The last `limit` lines said with the conversation's customer on every channel
        (only in this conversation if the customer is unknown), oldest first."""
        ...

    async def idle(self, since: datetime) -> list[tuple[int, ConversationKey]]:
        """Claimed conversations whose operator has not written since `since` while the
        customer waits (wrote after the operator, or the operator never wrote)."""
        ...

    async def waiting_ahead(self, conversation_id: int, now: datetime) -> int:
        """Escalated conversations still waiting that were escalated before this one (or
        before `now`, if it has no open handoff)."""
        ...

    async def recent_handling(self, count: int) -> list[tuple[datetime, datetime]]:
        """(claimed, ended) of the last `count` finished handoffs."""
        ...

    async def operators_at_work(self, since: datetime) -> int:
        """Operators holding a conversation now or who finished one after `since`."""
        ...


class OperatorNotes(Protocol):
    async def add(self, conversation_id: int, author: str, text: str, at: datetime) -> Note: ...

    async def of_conversation(self, conversation_id: int) -> list[Note]:
        """Oldest first."""
        ...


class ConversationTags(Protocol):
    """The operators' tags of a conversation (normal form: dialog/tags.py)."""

    async def add(self, conversation_id: int, tag: str, at: datetime) -> bool:
        """False if the conversation had the tag already."""
        ...

    async def remove(self, conversation_id: int, tag: str) -> bool:
        """False if it did not have it."""
        ...

    async def of_conversation(self, conversation_id: int) -> list[str]:
        """Sorted."""
        ...
