"""Whether a mail's From address may stand for the customer: only when the shop's own mail
server vouches for it.

Anyone can write any From. The receiving mail server in front of the bot checks SPF, DKIM and
DMARC and writes its verdict into an Authentication-Results header (RFC 8601) under its own
authserv-id ([email] authserv_id), added above every header already in the mail. A sender
can write such headers too, with our id in them: only the topmost one with our id is the
server's (it also removes or ignores older ones with its id, RFC 8601 §5); any below it, and
any with another id, are the sender's word and count for nothing.

That header must show dmarc=pass for exactly the From address's domain (header.from: DMARC's
alignment). SPF or DKIM alone may pass for the sender's own domain, not the one in From.
The mail must have one From header naming one address, the one the bot answers.

The header is parsed with authres (the RFC 8601 parser of the dkimpy family: pure Python,
no dependencies).
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import getaddresses

import authres
from authres.core import AuthenticationResult

from channels.email.headers import MAX_HEADER_CHARS as MAX_FROM_CHARS

HEADER = "Authentication-Results"
MAX_HEADER_CHARS = 8192  # the server's own header is short; a longer one is not believed
_FOLDING = re.compile(r"\r?\n")
_LEADING_ID = re.compile(r"\s*([^\s;()]+)")


def from_is_authenticated(message: EmailMessage, sender: str | None, authserv_id: str) -> bool:
    """True only when our server's topmost header shows an aligned dmarc=pass for `sender`,
    the From address the bot would take as the customer's (lower-case)."""
    if not authserv_id or sender is None or not _one_from_address(message, sender):
        return False
    results = _our_results(message, authserv_id.casefold())
    if results is None:
        return False
    domain = sender.rpartition("@")[2]
    dmarc = [result for result in results if str(result.method).lower() == "dmarc"]
    return bool(dmarc) and all(
        str(result.result).lower() == "pass" and _header_from(result) == domain
        for result in dmarc
    )


def _our_results(message: EmailMessage, authserv_id: str) -> list[AuthenticationResult] | None:
    """The results in the topmost Authentication-Results header with our id; None when there
    is none, or when it cannot be read (nothing below it is believed instead)."""
    for name, value in message.raw_items():
        if name.lower() != HEADER.lower():
            continue
        text = _FOLDING.sub("", str(value))
        leading = _LEADING_ID.match(text)
        if leading is not None and leading.group(1).casefold() != authserv_id:
            continue  # another server's id (or a sender's invention)
        parsed = _parsed(text)
        if parsed is None:  # ours, or one whose id a comment hides: unreadable, so no trust
            return None
        if str(parsed.authserv_id).casefold() == authserv_id:
            return list(parsed.results)
    return None


def _parsed(text: str) -> authres.AuthenticationResultsHeader | None:
    if len(text) > MAX_HEADER_CHARS:
        return None
    try:
        return authres.AuthenticationResultsHeader.parse_value(text)
    except Exception:  # authres raises its SyntaxError, and RecursionError on deep comments
        return None


def _header_from(result: AuthenticationResult) -> str:
    for prop in result.properties:
        if str(prop.type).lower() == "header" and str(prop.name).lower() == "from":
            value = str(prop.value).strip().lower()
            return value.rpartition("@")[2].rstrip(".")  # some servers write the address
    return ""


def _one_from_address(message: EmailMessage, sender: str) -> bool:
    """One From header with one address, the sender's: with two, the server may have checked
    the other one."""
    values = [str(value) for name, value in message.raw_items() if name.lower() == "from"]
    if len(values) != 1:
        return False
    unfolded = _FOLDING.sub("", values[0])[:MAX_FROM_CHARS]
    addresses = [address for _name, address in getaddresses([unfolded]) if address]
    return len(addresses) == 1 and addresses[0].lower() == sender
