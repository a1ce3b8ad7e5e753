"""What the operators channel holds, kept in the database, so that several bot processes - each
of which receives every desk event - post each thing there exactly once, and in order.

slack_threads: one row per escalation (handoff): its post, the state the post shows, and how
far its thread has been brought up to date (a transcript id). The row is inserted once
(insert-or-ignore on handoff_id); working on it needs its lease, taken with a conditional
UPDATE (busy_until, busy_by), so one process at a time posts, edits and mirrors.

slack_mirror: the transcript lines that are in a thread. A line is claimed here before it is
posted (insert-or-ignore on transcript_id). An operator's reply in the thread gets its row
before the desk records it, keyed by the Slack message: a replayed Slack event finds the row
(the customer gets the reply once), and the mirror never posts the reply back into the thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from channels.slack.tables import SlackMirror, SlackThread
from dialog.messages import Button
from dialog.tables import Handoff, TranscriptEntry
from storage.clock import utcnow
from storage.database import Database, insert_unless_exists

LEASE = timedelta(minutes=2)  # renewed at every step; a stalled process loses it after this
REPLY_GRACE = timedelta(minutes=1)  # an operator's reply being recorded holds the mirror back
BATCH = 100  # lines mirrored in one pass






@dataclass(frozen=True)
class Thread:
    id: int
    handoff_id: int
    conversation_id: int
    channel: str
    ts: str | None
    summary_upto: int
    mirrored_upto: int
    shown: str | None


@dataclass(frozen=True)
class PostState:
    """Where the escalation stands, as its post shows it."""

    status: str  # waiting | claimed | handed_back | resolved
    reason: str
    operator_key: str | None
    operator_name: str | None
    ended_at: datetime | None

    @property
    def key(self) -> str:
        return f"{self.status}:{self.operator_key or ''}"

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True)
class Line:
    id: int
    sender: str  # customer | bot | operator
    author: str | None
    text: str
    buttons: tuple[Button, ...]
    in_thread: bool  # mirrored already, or an operator's reply written there


class SlackThreads:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._database = database
        self._clock = clock

    async def open(self, handoff_id: int, conversation_id: int, channel: str) -> None:
        """The escalation's thread row, created by whichever process gets here first."""
        async with self._database.transaction() as session:
            await insert_unless_exists(session, SlackThread.__table__, {
                "handoff_id": handoff_id, "conversation_id": conversation_id,
                "channel": channel, "summary_upto": 0, "mirrored_upto": 0, "settled": False,
                "created_at": self._clock(),
            }, unique="handoff_id")

    async def unsettled(self, conversation_id: int) -> list[int]:
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(SlackThread.id).where(SlackThread.conversation_id == conversation_id,
                                             SlackThread.settled.is_(False))
                .order_by(SlackThread.id))
            return list(rows)

    async def by_post(self, channel: str, ts: str) -> Thread | None:
        async with self._database.transaction() as session:
            row = await session.scalar(
                select(SlackThread).where(SlackThread.channel == channel, SlackThread.ts == ts))
            return _thread(row) if row is not None else None

    async def get(self, thread_id: int) -> Thread | None:
        async with self._database.transaction() as session:
            row = await session.get(SlackThread, thread_id)
            return _thread(row) if row is not None else None

    # The lease

    async def take(self, thread_id: int, token: str) -> Thread | None:
        """The thread, with its lease for `token`; None if another holds it or it is settled."""
        now = self._clock()
        async with self._database.transaction() as session:
            taken = await session.execute(
                update(SlackThread)
                .where(SlackThread.id == thread_id, SlackThread.settled.is_(False),
                       or_(SlackThread.busy_until.is_(None), SlackThread.busy_until < now))
                .values(busy_until=now + LEASE, busy_by=token)
            )
            if not getattr(taken, "rowcount", 0):
                return None
            row = await session.get(SlackThread, thread_id)
            return _thread(row) if row is not None else None

    async def renew(self, thread_id: int, token: str) -> bool:
        """Keep the lease for another LEASE; False if it was lost (this process stalled)."""
        return await self._change(thread_id, token, busy_until=self._clock() + LEASE)

    async def release(self, thread_id: int, token: str) -> None:
        await self._change(thread_id, token, busy_until=None, busy_by=None)

    async def posted(self, thread_id: int, token: str, ts: str, upto: int, shown: str) -> None:
        await self._change(thread_id, token, ts=ts, summary_upto=upto, mirrored_upto=upto,
                           shown=shown)

    async def showing(self, thread_id: int, token: str, shown: str) -> None:
        await self._change(thread_id, token, shown=shown)

    async def advance(self, thread_id: int, token: str, upto: int) -> None:
        await self._change(thread_id, token, mirrored_upto=upto)

    async def settle(self, thread_id: int, token: str) -> None:
        await self._change(thread_id, token, settled=True)

    async def _change(self, thread_id: int, token: str, **values: object) -> bool:
        async with self._database.transaction() as session:
            result = await session.execute(
                update(SlackThread)
                .where(SlackThread.id == thread_id, SlackThread.busy_by == token)
                .values(**values)
            )
            return bool(getattr(result, "rowcount", 0))

    # What to show

    async def state(self, handoff_id: int) -> PostState | None:
        async with self._database.transaction() as session:
            handoff = await session.get(Handoff, handoff_id)
            if handoff is None:
                return None
            if handoff.ended_at is not None:
                status = handoff.outcome or "resolved"
            else:
                status = "claimed" if handoff.operator_key else "waiting"
            return PostState(status, handoff.reason, handoff.operator_key,
                             handoff.operator_name, handoff.ended_at)

    async def last_line(self, conversation_id: int) -> int:
        async with self._database.transaction() as session:
            newest = await session.scalar(select(func.max(TranscriptEntry.id)).where(
                TranscriptEntry.conversation_id == conversation_id))
            return int(newest or 0)

    async def customer_lines(self, conversation_id: int, upto: int, limit: int) -> list[str]:
        """The customer's last `limit` messages up to line `upto`, oldest first."""
        async with self._database.transaction() as session:
            texts = await session.scalars(
                select(TranscriptEntry.text)
                .where(TranscriptEntry.conversation_id == conversation_id,
                       TranscriptEntry.sender == "customer", TranscriptEntry.id <= upto)
                .order_by(TranscriptEntry.id.desc()).limit(limit))
            return list(reversed(list(texts)))

    async def lines_after(self, thread: Thread, state: PostState) -> list[Line]:
        """The conversation's lines the thread has not had yet (none said after the end)."""
        query = (
            select(TranscriptEntry, SlackMirror.id)
            .outerjoin(SlackMirror, SlackMirror.transcript_id == TranscriptEntry.id)
            .where(TranscriptEntry.conversation_id == thread.conversation_id,
                   TranscriptEntry.id > thread.mirrored_upto)
            .order_by(TranscriptEntry.id).limit(BATCH)
        )
        if state.ended_at is not None:
            query = query.where(TranscriptEntry.at <= state.ended_at)
        async with self._database.transaction() as session:
            rows = (await session.execute(query)).all()
        return [
            Line(entry.id, entry.sender, entry.author, entry.text,
                 tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
                 in_thread=mirror_id is not None)
            for entry, mirror_id in rows
        ]

    # The ledger of lines in a thread

    async def mirror(self, thread_id: int, transcript_id: int) -> bool:
        """Claim a line for posting in the thread; False if it is there (or on its way)."""
        async with self._database.transaction() as session:
            return await insert_unless_exists(session, SlackMirror.__table__, {
                "thread_id": thread_id, "transcript_id": transcript_id, "at": self._clock(),
            }, unique="transcript_id") is not None

    async def unmirror(self, transcript_id: int) -> None:
        """The post failed for now: the line may be claimed again."""
        async with self._database.transaction() as session:
            await session.execute(delete(SlackMirror).where(
                SlackMirror.transcript_id == transcript_id))

    async def reply_started(self, thread_id: int, reply: str) -> int | None:
        """An operator's reply (channel:ts) about to go to the customer; None if seen before."""
        async with self._database.transaction() as session:
            return await insert_unless_exists(session, SlackMirror.__table__, {
                "thread_id": thread_id, "reply": reply, "at": self._clock(),
            }, unique="reply")

    async def reply_recorded(self, row_id: int, transcript_id: int) -> None:
        async with self._database.transaction() as session:
            await session.execute(update(SlackMirror).where(SlackMirror.id == row_id)
                                  .values(transcript_id=transcript_id))

    async def reply_dropped(self, row_id: int) -> None:
        """The reply was not sent (the operator was told why)."""
        async with self._database.transaction() as session:
            await session.execute(delete(SlackMirror).where(SlackMirror.id == row_id))

    async def reply_pending(self, thread_id: int) -> bool:
        """Whether an operator's reply in this thread is being recorded right now."""
        since = self._clock() - REPLY_GRACE
        async with self._database.transaction() as session:
            found = await session.scalar(
                select(SlackMirror.id).where(
                    SlackMirror.thread_id == thread_id, SlackMirror.reply.is_not(None),
                    SlackMirror.transcript_id.is_(None), SlackMirror.at > since).limit(1))
            return found is not None


def _thread(row: SlackThread) -> Thread:
    return Thread(row.id, row.handoff_id, row.conversation_id, row.channel, row.ts,
                  row.summary_upto, row.mirrored_upto, row.shown)
