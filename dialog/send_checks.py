"""The read right before a reply's send, with several processes (dialog/outbox.py): the checks
that the conversations' workers ask for while one read is on its way, or waits for its
connection, are answered by one read in one unit of work, as the sent marks are gathered (no
timer: a quiet process reads at once). A read takes the checks asked for until it has its
connection, so each check is still a read begun after it was asked for, that is after its
reply was queued to send and before its send (docs/guarantees.md §2)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from dialog.unit_of_work import SendCheck, UnitOfWorkFactory
from storage.clock import utcnow

log = logging.getLogger(__name__)


@dataclass
class _Asked:
    outbox_id: int
    delivered_from: int
    answer: asyncio.Future[SendCheck] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class SendChecks:
    def __init__(self, units: UnitOfWorkFactory, owner: str, hold_at_most: timedelta) -> None:
        self._units = units
        self._owner = owner
        self._hold_at_most = hold_at_most
        self._asked: list[_Asked] = []
        self._reader: asyncio.Task[None] | None = None

    async def check(self, outbox_id: int, delivered_from: int) -> SendCheck:
        """Whether this process may send row `outbox_id` now (SendCheck; the meaning of
        `delivered_from` is OutboxRecords.sendable_many's)."""
        asked = _Asked(outbox_id, delivered_from)
        self._asked.append(asked)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="outbox-send-checks")
        return await asked.answer  # a cancelled worker's check is left out of the read

    async def finish(self) -> None:
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        while self._asked:
            batch: list[_Asked] = []
            try:
                async with self._units() as uow:
                    # Taken once the unit of work has its connection (the turns may keep
                    # every one busy for a while): the read below begins after each of them.
                    batch = self._next_batch()
                    checks = (await uow.outbox.sendable_many(
                        [(asked.outbox_id, asked.delivered_from) for asked in batch],
                        self._owner, utcnow() - self._hold_at_most) if batch else {})
            except Exception as error:  # no worse than before the check: the takers need it
                batch = batch or self._next_batch()
                log.warning("could not read whether outbox rows %s are still this process's"
                            " (%s); sending them",
                            ", ".join(str(asked.outbox_id) for asked in batch),
                            type(error).__name__)
                checks = {asked.outbox_id: SendCheck.SEND for asked in batch}
            except BaseException:  # cancelled (the loop ending): no worker waits for ever
                for asked in [*batch, *self._asked]:
                    asked.answer.cancel()
                self._asked = []
                raise
            for asked in batch:
                if not asked.answer.done():
                    asked.answer.set_result(checks[asked.outbox_id])

    def _next_batch(self) -> list[_Asked]:
        """The checks still awaited, a row once: a row asked about twice (queued twice) is
        read again by the next read, so that each answer comes from a read begun after it
        was asked for."""
        batch: dict[int, _Asked] = {}
        later: list[_Asked] = []
        for asked in self._asked:
            if asked.answer.done():
                continue
            if asked.outbox_id in batch:
                later.append(asked)
            else:
                batch[asked.outbox_id] = asked
        self._asked = later
        return list(batch.values())
