"""A shop's proof that it signed its customer in: hex HMAC-SHA256 of "email:timestamp".

The timestamp (unix seconds) lets the bot refuse a signature copied from an old page: it is
accepted for [webchat] identity_max_age_seconds, and at most FUTURE_SKEW_SECONDS ahead of
the bot's clock. The older form, the HMAC of the email alone, never expires; it is accepted
only while [webchat] identity_legacy is true (deprecated).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

FUTURE_SKEW_SECONDS = 300  # the shop's clock may run this far ahead of ours
EXPIRED = "the signature has expired"
FUTURE = "the signature's timestamp is in the future"
MISMATCH = "the signature does not match the customer's email"
NO_TIMESTAMP = "the signature needs its timestamp (the email-only form is turned off)"


def identity_signature(secret: str, email: str, timestamp: int) -> str:
    """What a shop sends with `timestamp`: hex HMAC-SHA256 of `email:timestamp`."""
    message = f"{email}:{timestamp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def legacy_identity_signature(secret: str, email: str) -> str:
    """The deprecated form: hex HMAC-SHA256 of the email alone (it never expires)."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def signed_identity(secret: str, email: str, timestamp: int | None = None) -> dict[str, Any]:
    """The `signature` and `timestamp` fields of POST /webchat/session, signed now."""
    at = int(time.time()) if timestamp is None else timestamp
    return {"signature": identity_signature(secret, email, at), "timestamp": at}


def identity_refusal(
    secret: str,
    email: str,
    signature: str,
    timestamp: int | None,
    *,
    max_age_seconds: int,
    legacy: bool,
    now: float,
) -> str | None:
    """Why the signature does not prove the email (a 403's reason), or None if it does."""
    given = signature.lower()
    if timestamp is None:
        if not legacy:
            return NO_TIMESTAMP
        expected = legacy_identity_signature(secret, email)
        return None if hmac.compare_digest(expected, given) else MISMATCH
    if not hmac.compare_digest(identity_signature(secret, email, timestamp), given):
        return MISMATCH
    if timestamp > now + FUTURE_SKEW_SECONDS:
        return FUTURE
    if now - timestamp > max_age_seconds:
        return EXPIRED
    return None
