"""How many failed proofs an order and a client may have before proofs are refused for a
while (docs/security.md): the counts live behind `Attempts`, in the database and in the turn's
own transaction (storage/repositories/proof_attempts.py), so that neither a new session nor
another process starts afresh, and a proof turn reads its lockout with the turn's other
statements instead of in a round trip of its own.

Keys are hashes: neither the database nor the logs learn an order number or an address from
them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dialog.messages import Inbound
from dialog.metrics import Metrics, NoMetrics

log = logging.getLogger(__name__)

CODES_PER_ORDER = 3  # one-time codes sent for one order within the window
STRIKES_SECONDS = 86400.0  # lockouts this close together double; none is longer than this


class Attempts(Protocol):
    """Failed attempts per key (an order, a client), and the lockout they lead to, in one
    transaction.

    `failures` failures within `window` seconds lock the key for `lockout` seconds; each
    further lockout within STRIKES_SECONDS doubles it (up to STRIKES_SECONDS).
    """

    async def failed(self, key: str, failures: int, window: float, lockout: float) -> float | None:
        """Count one failure of `key`; the seconds it is now locked for, or None."""
        ...

    async def locked_many(self, keys: Sequence[str]) -> list[float | None]:
        """The seconds each key stays locked, or None, in order, read together."""
        ...

    async def cleared(self, key: str) -> None:
        """Forget the failures of `key` (not a lockout in force, nor the doubling)."""
        ...


@dataclass(frozen=True)
class ProofPolicy:
    failures_per_order: int = 5
    failures_per_client: int = 10
    window_seconds: float = 3600
    lockout_seconds: float = 3600


class ProofLimits:
    """The limits as the composition root wires them once (the policy, the metrics);
    `over(attempts)` counts them in one transaction (the turn's shop: SqlShop.proof_limits)."""

    def __init__(self, policy: ProofPolicy | None = None, metrics: Metrics | None = None) -> None:
        self._policy = policy or ProofPolicy()
        self._metrics = metrics or NoMetrics()

    def over(self, attempts: Attempts) -> ProofCounts:
        return ProofCounts(attempts, self._policy, self._metrics)


class ProofCounts:
    """The limits counted in one transaction's attempts: what a flow asks (turn.shop)."""

    def __init__(self, attempts: Attempts, policy: ProofPolicy, metrics: Metrics) -> None:
        self._attempts = attempts
        self._policy = policy
        self._metrics = metrics

    async def locked(self, number: str, inbound: Inbound) -> bool:
        """Whether proofs of this order, or from this client, are refused now."""
        return await self._any_locked([_order_key(number), *_client_keys(inbound)])

    async def _any_locked(self, keys: list[str]) -> bool:
        # Read together: one statement for all the keys (Attempts.locked_many).
        found = await self._attempts.locked_many(keys)
        return any(seconds is not None for seconds in found)

    async def failed(self, number: str, inbound: Inbound, level: str = "basic") -> None:
        """Count a failed proof of the order (known or not: the same, so that a lockout tells
        nothing of which numbers exist) by this client."""
        self._metrics.proof_failed(level)
        policy = self._policy
        keys = [("order", _order_key(number), policy.failures_per_order)]
        keys += [("client", key, policy.failures_per_client) for key in _client_keys(inbound)]
        for scope, key, failures in keys:
            seconds = await self._attempts.failed(
                key, failures, policy.window_seconds, policy.lockout_seconds)
            if seconds is not None:
                self._metrics.proof_locked_out(scope)
                log.warning("proofs locked out for %d s: too many failures for one %s (%s)",
                            seconds, scope, key[-12:])

    async def code_refused(self, number: str, inbound: Inbound) -> bool:
        """Whether a one-time code for the order must not be sent now: proofs of the order or
        from this client are refused (`locked`), or a few codes were sent in the window, so
        that nobody floods the customer with codes they did not ask for. Otherwise the code
        about to be sent is counted. The four keys are read with one statement."""
        codes, policy = "proof:codes:" + _digest(number.strip().upper()), self._policy
        if await self._any_locked([_order_key(number), *_client_keys(inbound), codes]):
            return True
        locked = await self._attempts.failed(
            codes, CODES_PER_ORDER + 1, policy.window_seconds, policy.window_seconds)
        return locked is not None

    async def succeeded(self, number: str) -> None:
        """The order was proven: its count starts again (a client's count does not, or an
        attacker could prove an order of their own between guesses)."""
        await self._attempts.cleared(_order_key(number))


def _order_key(number: str) -> str:
    return "proof:order:" + _digest(number.strip().upper())


def _client_keys(inbound: Inbound) -> list[str]:
    keys = ["proof:conversation:" + _digest(str(inbound.key))]
    if inbound.client:
        keys.append("proof:address:" + _digest(inbound.client))
    return keys


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
