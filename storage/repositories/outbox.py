"""The outbox in SQL: replies committed with their turn, marked once the platform took them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Index,
    Integer,
    and_,
    any_,
    bindparam,
    column,
    exists,
    func,
    insert,
    or_,
    select,
    update,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dialog.messages import Button, ConversationKey, Delivery, Outbound
from dialog.tables import Conversation, OutboxRow, TranscriptEntry
from dialog.unit_of_work import SendCheck
from storage.drivers import on_postgresql
from storage.prepared import Prepared
from storage.repositories.columns import bound_values
from storage.repositories.ownership import adopt

Index("ix_outbox_unsent", OutboxRow.sent_at, OutboxRow.id)

_EARLIER = aliased(TranscriptEntry)  # a conversation's first entry, beside one of its own

_ADD = Prepared(
    insert(OutboxRow).values(
        bound_values(OutboxRow.__table__, "transcript_id", "channel", "chat_id", "context",
                     "attempts", "created_at", "owner"))
    .returning(OutboxRow.id)
)
_MARK_ONE_SENT = Prepared(
    update(OutboxRow).where(OutboxRow.id == bindparam("outbox_id"))
    .values(bound_values(OutboxRow.__table__, "sent_at"))
)
MARK_ONE_BY_ONE = 16  # up to this many rows, a prepared statement each is quicker
# PostgreSQL: any number of rows in one statement, compiled once (an array of ids), so that
# marking is one statement (and commits alone in an autocommit unit of work).
_MARK_ALL_SENT = Prepared(
    update(OutboxRow).where(OutboxRow.id == any_(bindparam("ids", type_=ARRAY(Integer))))
    .values(bound_values(OutboxRow.__table__, "sent_at"))
)
_MARK_SENT = (
    update(OutboxRow).where(OutboxRow.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("now", type_=OutboxRow.__table__.c.sent_at.type))
)
# Still this process's to send (dialog/outbox.py), checked right before the sends, and held
# back while an earlier reply of the same chat is still to go, whoever owns it. The rows asked
# about come as a VALUES list (one statement on SQLite and PostgreSQL, each row found by its
# key); the earlier rows are found by ix_outbox_unsent among the few unsent ones (as the
# takeover's heartbeat finds them); the owner's own rows it delivered but has not marked yet
# do not wait. Lists are padded to a power of two with id 0, which no row has, so that a few
# statements (each compiled once, and kept by asyncpg's statement cache) serve every size.
CHECKS_AT_ONCE = 128
_OWNER = bindparam("owner", type_=OutboxRow.__table__.c.owner.type)
_BEFORE = aliased(OutboxRow)


@cache
def _sendable(size: int) -> Prepared:
    asked = values(column("id", Integer), column("delivered_from", Integer), name="asked").data(
        [(bindparam(f"id{n}", type_=Integer), bindparam(f"from{n}", type_=Integer))
         for n in range(size)]
    ).cte("asked")
    held = exists().where(
        _BEFORE.sent_at.is_(None), _BEFORE.id < OutboxRow.id, _BEFORE.last_error.is_(None),
        _BEFORE.channel == OutboxRow.channel, _BEFORE.chat_id == OutboxRow.chat_id,
        _BEFORE.created_at >= bindparam("since", type_=OutboxRow.__table__.c.created_at.type),
        or_(_BEFORE.id < asked.c.delivered_from, _BEFORE.owner.is_distinct_from(_OWNER)),
    )
    return Prepared(
        select(OutboxRow.id, held).join_from(asked, OutboxRow, OutboxRow.id == asked.c.id)
        .where(OutboxRow.owner == _OWNER, OutboxRow.sent_at.is_(None),
               OutboxRow.last_error.is_(None))
    )


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._arrays = on_postgresql(session)

    async def add(
        self, transcript_id: int, key: ConversationKey, context: dict[str, Any],
        at: datetime, owner: str | None,
    ) -> int:
        outbox_id = await _ADD.scalar(
            self._session, v_transcript_id=transcript_id, v_channel=key.channel,
            v_chat_id=key.chat_id, v_context=context, v_attempts=0, v_created_at=at,
            v_owner=owner,
        )
        assert outbox_id is not None
        return int(outbox_id)

    async def unsent(self, ids: list[int] | None, owner: str | None) -> list[Delivery]:
        mine = OutboxRow.id.in_(ids) if ids is not None else OutboxRow.owner == owner
        first = (  # the conversation's first entry: is this reply its opening message?
            select(func.min(_EARLIER.id))
            .where(_EARLIER.conversation_id == TranscriptEntry.conversation_id)
            .scalar_subquery()
        )
        rows = await self._session.execute(
            select(OutboxRow, TranscriptEntry, Conversation.language, TranscriptEntry.id == first)
            .join(TranscriptEntry, TranscriptEntry.id == OutboxRow.transcript_id)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(OutboxRow.sent_at.is_(None), OutboxRow.last_error.is_(None), mine)
            .order_by(OutboxRow.id)
        )
        return [
            Delivery(
                outbox.id,
                entry.id,
                Outbound(
                    key=ConversationKey(outbox.channel, outbox.chat_id),
                    text=entry.text,
                    buttons=tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
                    sender=entry.sender,
                    author=entry.author,
                    rich=entry.rich,
                ),
                entry.at.isoformat(),
                dict(outbox.context or {}),
                language,
                bool(opens),
            )
            for outbox, entry, language, opens in rows
        ]

    async def mark_sent(self, outbox_ids: list[int], now: datetime) -> None:
        if self._arrays:
            await _MARK_ALL_SENT.execute(self._session, ids=outbox_ids, v_sent_at=now)
            return
        if len(outbox_ids) > MARK_ONE_BY_ONE:  # one statement; its IN list is compiled each time
            await self._session.execute(_MARK_SENT, {"ids": outbox_ids, "now": now})
            return
        for outbox_id in outbox_ids:
            await _MARK_ONE_SENT.execute(self._session, outbox_id=outbox_id, v_sent_at=now)

    async def sendable_many(self, rows: Sequence[tuple[int, int]], owner: str,
                            since: datetime) -> dict[int, SendCheck]:
        checks = dict.fromkeys((outbox_id for outbox_id, _ in rows), SendCheck.NOT_MINE)
        for start in range(0, len(rows), CHECKS_AT_ONCE):
            part = rows[start:start + CHECKS_AT_ONCE]
            size = 1 << (len(part) - 1).bit_length()
            asked: dict[str, Any] = {"owner": owner, "since": since}
            for n in range(size):
                asked[f"id{n}"], asked[f"from{n}"] = part[n] if n < len(part) else (0, 0)
            for outbox_id, held in await _sendable(size).all(self._session, **asked):
                checks[outbox_id] = SendCheck.WAIT if held else SendCheck.SEND
        return checks

    async def mark_failed(self, outbox_id: int, reason: str) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id)
            .values(attempts=OutboxRow.attempts + 1, last_error=reason[:500])
        )

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        unfinished = and_(OutboxRow.sent_at.is_(None), OutboxRow.last_error.is_(None))
        return await adopt(self._session, OutboxRow, unfinished, owner, alive_since,
                           unowned_only)
