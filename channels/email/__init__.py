"""Email: an SMTP listener for the shop's order address (aiosmtpd), answers through the
shop's relay (aiosmtplib), one mail thread per conversation."""

from channels.email.channel import EmailChannel

__all__ = ["EmailChannel"]
