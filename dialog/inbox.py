"""The inbox: platform messages recorded durably before they are acknowledged, then answered.

A webhook records the message (one row per platform id: a replay is refused by a unique key)
and answers 2xx; the turn then runs from the record. The turn marks the row processed in its
own transaction, so a message is answered once even if it is handed over twice (a restart
replays unprocessed rows). Turns of one conversation run in arrival order, one at a time.
A conversation past its message rate limit (`admit` says no) has the message recorded as
processed and not answered: a flood costs a row, not a turn.

A webhook that can wait for the turn (Telegram's) uses answer() instead: the row is recorded,
processed, in the turn's own transaction (as the web chat's messages are), and the 2xx goes
once that commits, so an acknowledged message is as durable as with accept(), for one
transaction instead of two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from dialog import crashpoints
from dialog.manager import DialogManager
from dialog.messages import ConversationKey, Inbound
from dialog.unit_of_work import AlreadyRecorded, UnitOfWorkFactory

log = logging.getLogger(__name__)


class Inbox:
    def __init__(
        self, units: UnitOfWorkFactory, manager: DialogManager,
        admit: Callable[[ConversationKey], Awaitable[bool]] | None = None,
        owner: str | None = None,
    ) -> None:
        self._units = units
        self._owner = owner  # this process's name, on the rows it records (takeover.py)
        self._admit = admit
        self._manager = manager
        self._queues: dict[ConversationKey, asyncio.Queue[Inbound]] = {}
        self._workers: set[asyncio.Task[None]] = set()

    async def accept(self, inbound: Inbound) -> bool:
        """Record durably, then queue the turn; False for a platform id seen before."""
        crashpoints.reached("inbound_received")  # a test hook, off in production
        admitted = await self._admitted(inbound)
        try:
            inbox_id = await self._record(inbound, processed=not admitted)
        except AlreadyRecorded:
            return False
        if admitted:
            self._dispatch(_with_id(inbound, inbox_id))
        return True

    async def answer(self, inbound: Inbound) -> None:
        """Record and answer in one transaction, the turn's, before returning: for a webhook
        that can wait for the turn (Telegram's), one transaction instead of accept()'s two.
        A platform id seen before is answered no more; a message over its conversation's
        limit is recorded unanswered, as accept() does. A turn that fails leaves the message
        recorded, unprocessed (answered after the next start, as after accept()); raises only
        when it could not be recorded (the platform then sends it again)."""
        crashpoints.reached("inbound_received")  # a test hook, off in production
        if not await self._admitted(inbound):
            with contextlib.suppress(AlreadyRecorded):
                await self._record(inbound, processed=True)
            return
        try:
            await self._manager.handle(inbound, record=True)
        except Exception:
            log.exception("turn failed for %s message %s; recorded to be answered after the"
                          " next start", inbound.key.channel, inbound.message_id)
            with contextlib.suppress(AlreadyRecorded):
                await self._record(inbound, processed=False)

    async def _admitted(self, inbound: Inbound) -> bool:
        if inbound.message_id is None:
            raise ValueError("an inbox message needs the platform's message id")
        return self._admit is None or await self._admit(inbound.key)

    async def _record(self, inbound: Inbound, *, processed: bool) -> int | None:
        """The inbox row, committed; raises AlreadyRecorded for a platform id seen before."""
        async with self._units() as uow:
            inbox_id = await uow.inbox.add(inbound, processed=processed, owner=self._owner)
            await uow.commit()
        if processed:
            log.warning("%s conversation over its message limit: inbox row %s not answered",
                        inbound.key.channel, inbox_id)
        return inbox_id

    async def start(self) -> None:
        """Answer what this process recorded but had not processed before its last stop."""
        await self.resume(None)

    async def resume(self, ids: list[int] | None) -> None:
        """Answer the unprocessed rows `ids` (None: all of this process's), e.g. taken over
        from a process that stopped (dialog/takeover.py)."""
        async with self._units() as uow:
            pending = await uow.inbox.unprocessed(ids, self._owner)
        for inbound in pending:
            self._dispatch(inbound)

    async def stop(self) -> None:
        for worker in list(self._workers):
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until every queued message has been handled (for tests and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    def _dispatch(self, inbound: Inbound) -> None:
        queue = self._queues.get(inbound.key)
        if queue is None:
            queue = self._queues[inbound.key] = asyncio.Queue()
            worker = asyncio.create_task(self._work(inbound.key, queue))
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        queue.put_nowait(inbound)

    async def _work(self, key: ConversationKey, queue: asyncio.Queue[Inbound]) -> None:
        try:
            while not queue.empty():
                inbound = queue.get_nowait()
                crashpoints.reached("inbound_recorded")  # a test hook, off in production
                try:
                    await self._manager.handle(inbound)
                except Exception:
                    # Left unprocessed: answered after the next start.
                    log.exception("turn failed for inbox row %s", inbound.inbox_id)
        finally:
            del self._queues[key]


def _with_id(inbound: Inbound, inbox_id: int | None) -> Inbound:
    return replace(inbound, inbox_id=inbox_id)

