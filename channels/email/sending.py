"""Mail out through the shop's relay (aiosmtplib), with the relay's answer turned into
DeliveryFailed: 4xx and an unreachable relay are retried, 5xx is given up.

Reasons never contain an address: the outbox logs them, and servers like to quote the
recipient ("550 5.1.1 <olivia@...>: User unknown").
"""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage

import aiosmtplib

from config import EmailSettings
from dialog.messages import DeliveryFailed

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0  # seconds for connecting and for each SMTP answer
_ADDRESS = re.compile(r"<?[^\s<>]+@[^\s<>]+>?")


class RelaySender:
    def __init__(self, settings: EmailSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=settings.relay_host,
                port=settings.relay_port,
                username=settings.relay_username or None,
                password=settings.relay_password or None,
                use_tls=settings.relay_tls == "tls",
                start_tls=settings.relay_tls == "starttls",
                timeout=SEND_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            first = refused.recipients[0] if refused.recipients else None
            if first is None:
                raise DeliveryFailed("the relay refused the recipient") from None
            raise failure(first.code, first.message, "RCPT") from None
        except aiosmtplib.SMTPSenderRefused as refused:
            raise failure(refused.code, refused.message, "MAIL") from None
        except aiosmtplib.SMTPDataError as refused:
            raise failure(refused.code, refused.message, "DATA") from None
        except aiosmtplib.SMTPAuthenticationError as refused:
            raise failure(refused.code, refused.message, "AUTH") from None
        except aiosmtplib.SMTPResponseException as refused:
            raise failure(refused.code, refused.message, "the session") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                aiosmtplib.SMTPTimeoutError, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"relay not reachable ({type(error).__name__})") from None
        except aiosmtplib.SMTPException as error:
            # What the relay cannot do: STARTTLS or AUTH it does not offer (a settings problem:
            # email.relay_tls, email.relay_username), an internationalised address without
            # SMTPUTF8. Trying again will not help.
            unsupported = isinstance(error, aiosmtplib.SMTPNotSupported) or (
                "not supported" in str(error).lower()
            )
            raise DeliveryFailed(f"relay: {_clean(str(error))}", permanent=unsupported) from None


def failure(code: int, message: str, stage: str) -> DeliveryFailed:
    """4xx: try again later; 5xx (and anything else): the relay will never take it."""
    reason = f"relay answered {code} at {stage}: {_clean(message)}"
    return DeliveryFailed(reason, permanent=not 400 <= code < 500)


def _clean(message: str) -> str:
    return _ADDRESS.sub("<address>", " ".join(message.split()))[:200]
