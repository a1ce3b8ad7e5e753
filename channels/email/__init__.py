"""Email: an SMTP listener for the shop's order address (aiosmtpd), answers through the
shop's relay (aiosmtplib), one mail thread per conversation."""

from __future__ import annotations

from typing import Any

__all__ = ["EmailChannel"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the mail parsing workers load channels.email.parsing, and with
    # it this package, and need none of the channel's dependencies (the dialog, SQLAlchemy).
    if name == "EmailChannel":
        from channels.email.channel import EmailChannel

        return EmailChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
