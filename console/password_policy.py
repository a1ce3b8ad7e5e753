"""What a console password must be: at least MIN_CHARS characters, and not one of the most
common passwords (console/common_passwords.txt), with or without digits and punctuation
around it ("Password2024!"), nor a few characters repeated, nor the username.

An operator's password guards customers' personal data and orders; a guessing attacker tries
the common ones first, and the login throttle only slows guessing down.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_CHARS = 12
MIN_DIFFERENT_CHARS = 5
COMMON = Path(__file__).parent / "common_passwords.txt"
_AROUND = "0123456789!@#$%^&*()_+-=.,;:?'\"`~[]{}<>/\\| "


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(
        line.strip().lower() for line in COMMON.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, username: str = "") -> str | None:
    """Why the password is refused (a sentence for the person choosing it), or None."""
    if len(password) < MIN_CHARS:
        return f"a password is at least {MIN_CHARS} characters"
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or lowered.strip(_AROUND) in common:
        return "this password is one of the most common ones: choose another"
    if len(set(lowered)) < MIN_DIFFERENT_CHARS:
        return f"a password has at least {MIN_DIFFERENT_CHARS} different characters"
    if username and username.lower() in (lowered, lowered.strip(_AROUND)):
        return "a password must not be the username"
    return None
