"""Console logins are limited per client address, and per username from that address, over a
moving window (`[operators] login_failures_per_address`, `login_failures_per_user_and_address`,
`login_lockout_minutes`).

Per (username, address) and not per username alone, so that someone guessing an operator's
password locks out their own address and not the operator; per address as well, so that one
address cannot try one common password against every username.

Every attempt is counted before its password is checked: the limiter's hit() counts and
decides in one step (in Redis, one script), so that guesses sent at once each take a place
and the ones past the limit are refused. A right password forgives its address and username
(so that a team behind one address logs in at the start of a shift); during a lockout no
password is checked at all, so a lockout cannot be lifted by guessing.

The counts are kept by the bot's rate limiter (coordination/limits.py): in memory with one
process, in Redis when one is configured (and in this process while Redis is down), so that
every bot process behind a load balancer sees the same attempts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from limits import RateLimitItemPerMinute

from config import OperatorsSettings
from coordination.limits import RateLimiter

log = logging.getLogger(__name__)
REFUSED = "login_lockout"  # the reason counted in orderbot_refused_requests_total


class LoginThrottle:
    def __init__(
        self, settings: OperatorsSettings, limiter: RateLimiter,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        minutes = settings.login_lockout_minutes
        self._per_address = RateLimitItemPerMinute(settings.login_failures_per_address, minutes)
        self._per_user = RateLimitItemPerMinute(settings.login_failures_per_user_and_address,
                                                minutes)
        self._limiter = limiter
        self._refused = refused or (lambda _reason: None)

    async def admit(self, username: str, address: str) -> int | None:
        """Count a login attempt; the seconds to wait if it is refused (None: go ahead and
        check the password)."""
        wait = await self._limiter.hit(self._per_user, "login", "user", address, username)
        scope = "username from this address"
        if wait is None:
            wait = await self._limiter.hit(self._per_address, "login", "ip", address)
            scope = "address"
        if wait is not None:
            self._refused(REFUSED)
            # Hash prefixes only: they tell one attacker from many without naming anyone.
            log.warning("console login refused: too many attempts for this %s (address #%s, "
                        "username #%s); locked for %d s", scope, _digest(address),
                        _digest(username), wait)
        return wait

    async def succeeded(self, username: str, address: str) -> None:
        """The right password: the attempts of its address and username are forgiven."""
        await self._limiter.clear(self._per_user, "login", "user", address, username)
        await self._limiter.clear(self._per_address, "login", "ip", address)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
