"""Console logins are limited per username and per IP address over a moving minute: past
`attempts_per_minute` failures, logins are refused until the oldest one leaves the window.

The counts are kept by the bot's rate limiter (coordination/limits.py): in memory with one
process, in Redis when one is configured (and in this process while Redis is down), so that
every bot process behind a load balancer sees the same failures.
"""

from __future__ import annotations

from limits import RateLimitItemPerMinute

from coordination.limits import RateLimiter


class LoginThrottle:
    def __init__(self, attempts_per_minute: int, limiter: RateLimiter) -> None:
        self._limit = RateLimitItemPerMinute(attempts_per_minute)
        self._limiter = limiter

    async def admit(self, username: str, address: str) -> int | None:
        """Count a login attempt of the username; the seconds to wait if it is refused (None:
        go ahead). Counting before the password is checked means that parallel guesses at
        one username cannot slip past the limit."""
        wait = await self._limiter.check(self._limit, "login", "ip", address)
        if wait is None:
            wait = await self._limiter.hit(self._limit, "login", "user", username)
        return wait

    async def failed(self, address: str) -> None:
        """The password was wrong: the address's failures grow too (its right passwords do
        not count, so that a team behind one address can log in at the start of a shift)."""
        await self._limiter.hit(self._limit, "login", "ip", address)

    async def succeeded(self, username: str) -> None:
        """The right password: the username's attempts are forgiven."""
        await self._limiter.clear(self._limit, "login", "user", username)
