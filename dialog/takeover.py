"""Which bot process owns which pending work, and the takeover of a stopped process's work.

Every inbox row (a message to answer) and outbox row (a reply to send) carries its owner, the
name of the process that recorded it ([process] name: by default this host's name and HTTP
port, so that a process restarted in the same place takes its own work back at once). Each
process writes a heartbeat every `takeover_seconds / 6` (1 s at the default 6 s: one
transaction with the heartbeat's UPDATE and the two takeover UPDATEs below). A process not
heard of for `takeover_seconds` has stopped: a live process takes its unanswered messages and
unsent replies over, with one conditional UPDATE per table (so exactly one process gets each
row), and runs them. A process that was only stalled finds, before each send, that the row
is no longer its own (dialog/outbox.py), and leaves it to the taker.

With one process this only lets a restart resume its own work. With several it keeps a
process that dies and stays down from stranding its customers' answers, and keeps a process
that restarts from sending the replies another live process is sending. A process that could
not reach the database takes nothing over until it has been in touch for a whole
`takeover_seconds`: after an outage that stopped every heartbeat, the others first show
they are alive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from dialog.unit_of_work import Repositories, UnitOfWorkFactory
from storage.clock import utcnow

log = logging.getLogger(__name__)

HEARTBEATS_PER_TAKEOVER = 6
KEPT_BEATS = HEARTBEATS_PER_TAKEOVER  # a takeover period of them: an older one is too old
STOPPED = datetime(2000, 1, 1, tzinfo=UTC)  # the heartbeat of a process that stopped cleanly
Resume = Callable[[list[int], list[int]], Awaitable[None]]  # (inbox ids, outbox ids)




class Takeover:
    def __init__(self, units: UnitOfWorkFactory, name: str, takeover_seconds: float,
                 resume: Resume, clock: Callable[[], datetime] = utcnow) -> None:
        self.name = name
        self.takeover_seconds = takeover_seconds
        self._units = units
        self._resume = resume
        self._clock = clock  # the heartbeats' (every process's compares them with its own)
        self._in_touch_since: float | None = None
        # The last heartbeats written: (the time written, the time its commit was done).
        self._beats: deque[tuple[datetime, datetime]] = deque(maxlen=KEPT_BEATS)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Announce this process and adopt work nobody owns (rows from before owners were
        recorded). Call before the inbox and the outbox load this process's pending rows.
        Work of stopped processes is taken over once this one has been in touch for a whole
        takeover period (their heartbeats may be late for the same reason as ours)."""
        async with self._units() as uow:
            beat = self._clock()
            await uow.processes.beat(self.name, beat)
            await self._take(uow, unowned_only=True)
            await uow.commit()
        self._beats.append((beat, self._clock()))
        self._in_touch_since = time.monotonic()
        self._task = asyncio.create_task(self._run(), name="takeover")

    def rows_surely_own(self, since: datetime) -> bool:
        """Whether no other process can have taken over a row this one recorded at `since`:
        the heartbeat in force then is younger than half of takeover_seconds now (so it was
        all along; the takers' clocks within the other half of ours, as the takeover assumes
        already), and this process is not stopping. The outbox then sends a reply recorded
        with nothing of its conversation before it without reading that it is still its own
        (dialog/outbox.py): a stall long enough for a takeover, even one that has ended and
        been followed by new heartbeats, leaves the read to be made."""
        if self._stopping:
            return False
        in_force = [beat for beat, committed in self._beats if committed <= since]
        return bool(in_force) and (self._clock() - max(in_force)).total_seconds() < (
            self.takeover_seconds / 2)

    async def stop(self) -> None:
        self._stopping = True  # marked stopped below: the others may take over at once
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:  # stopped on purpose: the others may take over at once, not a period later
            async with self._units() as uow:
                await uow.processes.mark_stopped(self.name, STOPPED)
                await uow.commit()
        except Exception:
            log.warning("could not record this process's stop; taken over after %ss",
                        self.takeover_seconds)

    async def sweep(self) -> tuple[list[int], list[int]]:
        """One round: heartbeat, then take over the work of processes that stopped."""
        async with self._units() as uow:
            # Read once the transaction is ours, not before waiting for it: a beat older than
            # its writing would make this process look stopped to itself and the others.
            beat = self._clock()
            await uow.processes.beat(self.name, beat)
            settled = (self._in_touch_since is not None
                       and time.monotonic() - self._in_touch_since >= self.takeover_seconds)
            taken = await self._take(uow, unowned_only=not settled)
            await uow.commit()
        self._beats.append((beat, self._clock()))
        if taken[0] or taken[1]:
            log.warning("took over %d unanswered messages and %d unsent replies of stopped"
                        " processes (a reply may have left before its process stopped)",
                        len(taken[0]), len(taken[1]))
            await self._resume(*taken)
        return taken

    async def _run(self) -> None:
        period = self.takeover_seconds / HEARTBEATS_PER_TAKEOVER
        while True:
            await asyncio.sleep(period)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._in_touch_since = None
                log.warning("heartbeat failed (database unreachable?); retrying")
            else:
                if self._in_touch_since is None:
                    self._in_touch_since = time.monotonic()

    async def _take(self, uow: Repositories, unowned_only: bool) -> tuple[list[int], list[int]]:
        """Make this process the owner of pending rows whose owner is not alive."""
        cutoff = self._clock() - timedelta(seconds=self.takeover_seconds)
        return (await uow.inbox.adopt(self.name, cutoff, unowned_only),
                await uow.outbox.adopt(self.name, cutoff, unowned_only))
