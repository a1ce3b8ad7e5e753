"""The ports of a turn's persistence: a unit of work and the repositories it exposes.

A unit of work is one transaction: `async with uow_factory() as uow: ...; await uow.commit()`.
Left without commit() (an exception, a duplicate) it rolls back, and nothing it was told to
do after the commit runs. Repositories take and return plain values (dialog/state.py,
dialog/messages.py), never table rows; the SQL implementations live in storage/repositories/, wired
by composition/bootstrap.py; tests/fakes has one in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Any, NamedTuple, Protocol

from dialog.attachment_values import AttachmentRef, StoredAttachment
from dialog.desk_ports import ConversationTags, HandoffQueue, Handoffs, OperatorNotes
from dialog.erasure import Erasures
from dialog.events import PendingEvent, RatingOffer
from dialog.flows.shop import Shop
from dialog.intent_labels import IntentLabels
from dialog.messages import Button, ConversationKey, Delivery, Inbound, Outbound
from dialog.state import ConversationState, HistoryEntry, TokenRecord

AfterCommit = Callable[[], Awaitable[None] | None]


class AlreadyRecorded(Exception):
    """A platform message with this id was recorded before: the transaction is spoilt."""


class Fenced(Exception):
    """The turn's lock was taken over (its lease ran out while this process was stalled) and
    a newer turn holds the conversation, or another process made the conversation meanwhile:
    this turn must roll back and run again."""


# The fence of a hold whose lock across processes is the conversation's row itself
# (coordination.memory.InProcessLocks(token=ROW_LOCK), wired where several processes share the
# database): the load takes the row's lock for the transaction and records no token, so no
# lease can run out under a stalled turn and nothing is refused; a process that waits for the
# row reads it as the holder's commit left it. A conversation another process made meanwhile
# raises Fenced, as with a token.
ROW_LOCK = 0


class ConversationRecords(Protocol):
    async def find(
        self, key: ConversationKey, fence: int | None = None
    ) -> ConversationState | None:
        """The conversation's state. With a fencing token (coordination.base.Locks), the token
        is recorded on the conversation first, in the turn's transaction, and Fenced is raised
        if a greater one was recorded before (a newer holder of its lock); with ROW_LOCK the
        row is locked for the transaction, nothing recorded, nothing refused."""
        ...

    async def add(
        self, key: ConversationKey, language: str, customer_id: int | None,
        fence: int | None = None,
    ) -> ConversationState: ...

    async def save(self, state: ConversationState, now: datetime) -> None: ...

    async def escalate_if_bot(
        self, key: ConversationKey, reason: str, now: datetime
    ) -> int | None:
        """Move the conversation from "bot" to "escalated"; its id, None if it was not "bot"."""
        ...

    async def latest_key_for_customer(
        self, customer_id: int, channel: str | None
    ) -> ConversationKey | None:
        """The customer's most recently active conversation, on `channel` or on any."""
        ...

    async def watch(self, conversation_id: int, numbers: Sequence[str]) -> None:
        """Remember that these orders were proven in the conversation (once each)."""
        ...

    async def watching(self, number: str) -> list[tuple[ConversationKey, int | None]]:
        """The conversations watching the order, oldest first, with the order's customer."""
        ...


class Transcript(Protocol):
    async def add_inbound(
        self, conversation_id: int, inbound: Inbound, at: datetime,
        flow: str | None, intent: str | None, *, recorded_in_inbox: bool = False,
    ) -> int | None:
        """The customer's message; None if its platform message id was recorded before
        (the transaction stays usable). recorded_in_inbox: this transaction has recorded or
        claimed the message's inbox row, whose unique key and claim let one copy through: no
        check needed here."""
        ...

    async def add_reply(self, conversation_id: int, reply: Outbound, at: datetime) -> int: ...

    async def add_exchange(
        self, conversation_id: int, inbound: Inbound, replies: Sequence[Outbound], at: datetime,
        flow: str | None, intent: str | None,
    ) -> list[int]:
        """The customer's message and the replies to it, in this order, as add_inbound and
        add_reply would write them (one statement where the database can); their ids, in the
        same order. Only for a message that needs no duplicate check (add_inbound's
        recorded_in_inbox, or no platform message id)."""
        ...

    async def history(
        self, key: ConversationKey, limit: int
    ) -> tuple[str, list[HistoryEntry]]:
        """The conversation's language and its last `limit` entries, oldest first."""
        ...

    async def last_from_bot(self, conversation_id: int) -> HistoryEntry | None: ...

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        """The buttons of the latest message not from the customer."""
        ...


class RecordedExchange(NamedTuple):
    entries: list[int]  # the transcript entries' ids, the customer's message first
    outbox: list[int]  # the replies' outbox ids, in order
    # No earlier reply of the conversation was waiting to be sent (or retried) when these
    # were recorded: read in the same statement where the database can, else False (unknown).
    first_in_line: bool


class Exchanges(Protocol):
    async def open(
        self, inbound: Inbound, fence: int | None, owner: str | None,
    ) -> ConversationState | None:
        """A message answered in its own turn: recorded in the inbox (processed) as
        InboxRecords.add records it, and its conversation's state read as
        ConversationRecords.find reads it, in one statement where the database can. None for
        a conversation that has none yet; raises AlreadyRecorded (the transaction spoilt) for
        a platform id recorded before, Fenced as find does."""
        ...

    async def record(
        self, state: ConversationState, inbound: Inbound, replies: Sequence[Outbound],
        at: datetime, flow: str | None, intent: str | None, owner: str | None,
        events: Sequence[PendingEvent] = (), watch: Sequence[str] = (),
    ) -> RecordedExchange:
        """A customer's message answered: what Transcript.add_exchange, ConversationRecords.save,
        an OutboxRecords.add per reply (with the state's context), Events.add (`events`, at
        `at`) and ConversationRecords.watch (the order numbers `watch`) would write, in one
        statement where the database can. Only for a message that needs no duplicate check (as
        add_exchange) and at least one reply."""
        ...


class InboxRecords(Protocol):
    async def add(self, inbound: Inbound, *, processed: bool, owner: str | None) -> int:
        """Record a platform message; raises AlreadyRecorded for a platform id seen before."""
        ...

    async def claim(self, inbox_id: int) -> bool:
        """Mark the row processed; False if it was already."""
        ...

    async def unprocessed(self, ids: list[int] | None, owner: str | None) -> list[Inbound]:
        """The rows `ids` (None: the owner's) not processed yet, oldest first."""
        ...

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        """Make `owner` the owner of unprocessed rows with no owner (and, unless
        `unowned_only`, of those whose owner, another process, was not seen since
        `alive_since`: never its own, which it has in hand); their ids."""
        ...


class SendCheck(Enum):
    SEND = "send"
    WAIT = "wait"  # an earlier reply of the conversation is still to be sent
    NOT_MINE = "not mine"  # sent, given up or taken over meanwhile


class OutboxRecords(Protocol):
    async def add(
        self, transcript_id: int, key: ConversationKey, context: dict[str, Any],
        at: datetime, owner: str | None,
    ) -> int: ...

    async def unsent(self, ids: list[int] | None, owner: str | None) -> list[Delivery]:
        """The rows `ids` (None: the owner's) neither sent nor given up, oldest first."""
        ...

    async def mark_sent(self, outbox_ids: list[int], now: datetime) -> None: ...

    async def sendable_many(self, rows: Sequence[tuple[int, int]], owner: str,
                       since: datetime) -> dict[int, SendCheck]:
        """Whether `owner` may send each row now, read right before the sends: `rows` are
        (outbox_id, delivered_from) pairs of distinct ids, all answered by one read. NOT_MINE
        when a row was sent, given up or taken over by another process (dialog/takeover.py),
        so that it is not sent by both; WAIT while an earlier row of its conversation (a lower
        id, the same chat) is neither sent nor given up, whoever owns it, so that replies
        leave in the transcript's order across processes. Not waited for: the owner's own
        rows from that row's `delivered_from` on (delivered, their sent marks not committed
        yet) and rows created before `since` (they must not hold the later ones for ever)."""
        ...

    async def mark_failed(self, outbox_id: int, reason: str) -> None: ...

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        """As InboxRecords.adopt, for rows neither sent nor given up."""
        ...


class BotProcesses(Protocol):
    """The heartbeats of the bot processes (dialog/takeover.py)."""

    async def beat(self, name: str, now: datetime) -> None: ...

    async def mark_stopped(self, name: str, at: datetime) -> None:
        """Set a known process's heartbeat to `at` (a time long past)."""
        ...


class Tokens(Protocol):
    async def add(self, token_hash: str, conversation_id: int, now: datetime) -> None: ...

    async def find(self, token_hash: str) -> TokenRecord | None: ...

    async def touch(self, token_hash: str, now: datetime) -> None: ...

    async def remove(self, token_hash: str) -> bool:
        """Forget the token; False if another transaction did first."""
        ...


class Events(Protocol):
    async def add(
        self, conversation_id: int | None, events: list[PendingEvent], at: datetime
    ) -> None:
        """Raises ValueError for a kind dialog/events.py does not know."""
        ...

    async def latest_rating_offer(self, conversation_id: int) -> RatingOffer | None:
        """The conversation's newest rating offer, and whether a rating answered it."""
        ...


class AttachmentRecords(Protocol):
    """Customers' attachments (dialog/attachments.py): rows only, the files are a FileStore's."""

    async def add(self, attachment: StoredAttachment) -> None: ...

    async def find(self, attachment_id: str) -> StoredAttachment | None: ...

    async def join(
        self, key: ConversationKey, conversation_id: int, transcript_id: int, ids: Sequence[str]
    ) -> list[AttachmentRef]:
        """Make the attachments `ids` part of the message `transcript_id`: only those uploaded
        under the conversation's key and in no message yet (a guessed or reused id joins
        nothing). The ones joined, in the order of `ids`."""
        ...

    async def of_entries(self, transcript_ids: Sequence[int]) -> dict[int, list[AttachmentRef]]:
        """The attachments of these transcript entries, by entry."""
        ...

    async def forget_unjoined(self, before: datetime) -> int:
        """Delete the rows of uploads no message took, made before `before`; how many."""
        ...

    async def stored_paths(self) -> set[str]:
        """The stored path of every attachment row (their files are kept, the rest not)."""
        ...


class Repositories(Protocol):
    """The repositories of one transaction, and what runs once it has committed."""

    @property
    def conversations(self) -> ConversationRecords: ...

    @property
    def transcript(self) -> Transcript: ...

    @property
    def exchanges(self) -> Exchanges: ...

    @property
    def inbox(self) -> InboxRecords: ...

    @property
    def outbox(self) -> OutboxRecords: ...

    @property
    def tokens(self) -> Tokens: ...

    @property
    def processes(self) -> BotProcesses: ...

    @property
    def handoffs(self) -> Handoffs: ...

    @property
    def queue(self) -> HandoffQueue: ...

    @property
    def notes(self) -> OperatorNotes: ...

    @property
    def tags(self) -> ConversationTags: ...

    @property
    def events(self) -> Events: ...

    @property
    def labels(self) -> IntentLabels: ...

    @property
    def erasures(self) -> Erasures: ...

    @property
    def attachments(self) -> AttachmentRecords: ...

    @property
    def shop(self) -> Shop:
        """The order core's use cases and the shop's adapters in this transaction."""
        ...

    def after_commit(self, callback: AfterCommit) -> None:
        """Run callback once the transaction has committed (never on rollback)."""
        ...


class UnitOfWork(Repositories, Protocol):
    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

# A due job of the dialog (storage/jobs.py), run in the job's transaction; the composition root
# registers it so that it gets that transaction's repositories (composition/joined.py).
DueJob = Callable[[Repositories, dict[str, Any]], Awaitable[None]]


class DueJobs(Protocol):
    def register(self, kind: str, handler: DueJob) -> None: ...
