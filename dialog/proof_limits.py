"""How many failed proofs an order and a client may have before proofs are refused for a
while (docs/security.md): the counts live behind coordination.base.Attempts, shared by every
bot process through Redis, so that neither a new session nor another process starts afresh.

Keys are hashes: neither Redis nor the logs learn an order number or an address from them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from coordination.base import Attempts
from dialog.messages import Inbound
from dialog.metrics import Metrics, NoMetrics

log = logging.getLogger(__name__)

CODES_PER_ORDER = 3  # one-time codes sent for one order within the window


@dataclass(frozen=True)
class ProofPolicy:
    failures_per_order: int = 5
    failures_per_client: int = 10
    window_seconds: float = 3600
    lockout_seconds: float = 3600


class ProofLimits:
    def __init__(self, attempts: Attempts, policy: ProofPolicy | None = None,
                 metrics: Metrics | None = None) -> None:
        self._attempts = attempts
        self._policy = policy or ProofPolicy()
        self._metrics = metrics or NoMetrics()

    async def locked(self, number: str, inbound: Inbound) -> bool:
        """Whether proofs of this order, or from this client, are refused now."""
        # Asked together: with Redis one round trip for the order's and the client's keys,
        # not one per key.
        found = await self._attempts.locked_many([_order_key(number), *_client_keys(inbound)])
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

    async def code_allowed(self, number: str) -> bool:
        """Count a one-time code about to be sent for the order; False past a few in the
        window, so that nobody floods the customer with codes they did not ask for."""
        key, policy = "proof:codes:" + _digest(number.strip().upper()), self._policy
        if await self._attempts.locked(key) is not None:
            return False
        locked = await self._attempts.failed(
            key, CODES_PER_ORDER + 1, policy.window_seconds, policy.window_seconds)
        return locked is None

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
