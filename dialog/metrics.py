"""What a bot process counts about its turns and deliveries, for operations (/metrics).

The dialog calls these hooks on its hot path: they must only bump counters in memory (no
I/O). composition/bootstrap.py plugs in the Prometheus implementation
(monitoring/prometheus.py); without one, nothing is counted.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def turn(self, channel: str, seconds: float, replies: int) -> None:
        """A customer message was answered (replies: how many messages the bot wrote)."""

    def turn_failed(self, channel: str) -> None:
        """A customer message raised an error instead of being answered."""

    def delivered(self, channel: str) -> None:
        """A message reached the customer's platform."""

    def undeliverable(self, channel: str) -> None:
        """A message was given up on after its retries."""

    def refused(self, reason: str) -> None:
        """A request was refused by a guard against abuse (reason: "body_too_large",
        "login_lockout", "escalation_limit", "cross_origin", ...)."""

    def unanswered(self, channel: str, reason: str) -> None:
        """A customer message was taken and deliberately not answered (reason: e.g.
        "rate_limited")."""

    def email_refused(self, kind: str) -> None:
        """A received mail was automatic and not answered (kind: "bounce", "auto_reply",
        "bulk", "report", "own_mail", "configured")."""

    def proof_failed(self, level: str) -> None:
        """A proof of an order failed ("basic": number and email/postcode; "code": a
        one-time code)."""

    def proof_locked_out(self, scope: str) -> None:
        """Too many failed proofs locked an "order" or a "client" out for a while."""


class NoMetrics:
    def turn(self, channel: str, seconds: float, replies: int) -> None:
        pass

    def turn_failed(self, channel: str) -> None:
        pass

    def delivered(self, channel: str) -> None:
        pass

    def undeliverable(self, channel: str) -> None:
        pass

    def refused(self, reason: str) -> None:
        pass

    def unanswered(self, channel: str, reason: str) -> None:
        pass

    def email_refused(self, kind: str) -> None:
        pass

    def proof_failed(self, level: str) -> None:
        pass

    def proof_locked_out(self, scope: str) -> None:
        pass
