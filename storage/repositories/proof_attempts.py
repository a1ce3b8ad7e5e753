"""Failed proofs and their lockouts in SQL (dialog/proof_limits.py `Attempts`), in the unit of
work's transaction.

A proof turn reads its keys' lockouts with one statement among the turn's others; a failure is
counted with one upsert (a second statement at the failure that locks the key); a successful
proof's clearing is skipped when the read found nothing to clear. On PostgreSQL the upsert
holds the key's row until the turn commits, so two turns counting the same key take turns and
neither count is lost; a lockout is in force on every process once the turn that counted it
has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.proof_limits import STRIKES_SECONDS
from dialog.tables import ProofAttemptRow
from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.drivers import on_postgresql
from storage.jobs import Clock
from storage.prepared import Prepared

KIND = "proof_attempts_cleanup"
_READ_AT_ONCE = 4  # an order's key, a client's two and the order's codes: one statement
_READ = Prepared(
    select(ProofAttemptRow.key, ProofAttemptRow.failures, ProofAttemptRow.window_ends,
           ProofAttemptRow.locked_until)
    .where(ProofAttemptRow.key.in_([bindparam(f"key{i}") for i in range(_READ_AT_ONCE)]))
)
_CLEAR = Prepared(
    update(ProofAttemptRow)
    .where(ProofAttemptRow.key == bindparam("cleared"),
           ProofAttemptRow.failures > literal_column("0"))
    .values(failures=literal_column("0"))
)


class SqlProofAttempts:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self._session = session
        self._clock = clock
        # Failures in force per key as read in this transaction: clearing a key read with
        # none costs no statement. A failure another turn counts meanwhile then stays, which
        # only brings that key's lockout sooner.
        self._read: dict[str, int] = {}

    async def locked_many(self, keys: Sequence[str]) -> list[float | None]:
        now = self._clock()
        found: dict[str, tuple[int, datetime, datetime | None]] = {}
        for start in range(0, len(keys), _READ_AT_ONCE):
            chunk = list(keys[start:start + _READ_AT_ONCE])
            chunk += chunk[-1:] * (_READ_AT_ONCE - len(chunk))  # the same key again: no row more
            rows = await _READ.all(self._session, **{f"key{i}": key for i, key in enumerate(chunk)})
            for key, failures, window_ends, locked_until in rows:
                found[key] = (failures, window_ends, locked_until)
        seconds: list[float | None] = []
        for key in keys:
            failures, window_ends, locked_until = found.get(key, (0, now, None))
            self._read[key] = failures if window_ends > now else 0
            left = (locked_until - now).total_seconds() if locked_until is not None else 0.0
            seconds.append(left if left > 0 else None)
        return seconds

    async def failed(self, key: str, failures: int, window: float, lockout: float) -> float | None:
        now = self._clock()
        insert = postgresql.insert if on_postgresql(self._session) else sqlite.insert
        row = ProofAttemptRow
        proposed = insert(row).values(key=key, failures=1,
                                      window_ends=now + timedelta(seconds=window),
                                      strikes=0, strikes_end=now, locked_until=None)
        in_window = row.window_ends > now
        counted = (await self._session.execute(
            proposed.on_conflict_do_update(
                index_elements=[row.key],
                set_={"failures": case((in_window, row.failures + 1), else_=1),
                      "window_ends": case((in_window, row.window_ends),
                                          else_=proposed.excluded.window_ends)},
            ).returning(row.failures, row.strikes, row.strikes_end)
        )).one()
        self._read[key] = counted.failures
        if counted.failures < failures:
            return None
        strikes = counted.strikes + 1 if counted.strikes_end > now else 1
        seconds = float(min(lockout * 2 ** (strikes - 1), STRIKES_SECONDS))
        # The count starts again in a window of its own from now. Not one that ends now:
        # turns waiting for this row read the time before they waited, and some would count
        # in the old window and some restart it, losing failures.
        await self._session.execute(
            update(row).where(row.key == key).values(
                failures=0, window_ends=now + timedelta(seconds=window), strikes=strikes,
                strikes_end=now + timedelta(seconds=STRIKES_SECONDS),
                locked_until=now + timedelta(seconds=seconds)))
        self._read[key] = 0
        return seconds

    async def cleared(self, key: str) -> None:
        if self._read.get(key, 1) > 0:
            await _CLEAR.execute(self._session, cleared=key)
            self._read[key] = 0


async def delete_lapsed(session: AsyncSession, before: datetime) -> int:
    """Delete the keys whose window, lockout and doubling all ended before `before`."""
    gone = await session.execute(
        delete(ProofAttemptRow).where(
            ProofAttemptRow.window_ends < before, ProofAttemptRow.strikes_end < before,
            or_(ProofAttemptRow.locked_until.is_(None), ProofAttemptRow.locked_until < before),
        )
    )
    return int(getattr(gone, "rowcount", 0) or 0)


class LapsedProofAttempts(DailyCleanup):
    """Once a day, the keys whose window, lockout and doubling all ended a day or more ago."""

    def __init__(self, clock: Clock = utcnow) -> None:
        super().__init__(KIND, 1, delete_lapsed, "lapsed proof counts", clock)
