"""Mail no one should answer: auto-replies, bulk and list mail, bounces (RFC 3834, RFC 3464),
our own mail coming back, and whatever the shop's extra patterns name.

Answering those makes mail loops (two auto-responders talking forever), spams lists and gets
the shop's domain blocklisted. A bounce (a delivery status notification) also tells which of
our recipients failed. The signs are in auto_reply_signs.py and bounce_formats.py; this
module weighs them in order and gives the kind (counted in /metrics) and the reason (logged;
neither holds an address or a subject).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message

from channels.email.auto_reply_signs import AUTO_REPLY, BULK, auto_reply_sign
from channels.email.bounce_formats import (
    bounce_sign,
    is_null_address,
    report_text,
    returned_message_ids,
    text_failed_recipients,
)
from channels.email.headers import header_text
from channels.email.threading import chat_id_in_bot_id

__all__ = ["AUTO_REPLY", "BOUNCE", "BULK", "CONFIGURED", "KINDS", "OWN_MAIL", "REPORT",
           "Automatic", "AutomaticRules", "NO_RULES", "classify",
           "failed_recipients"]

BOUNCE = "bounce"
REPORT = "report"  # a read receipt or another multipart/report that is not a failure
OWN_MAIL = "own_mail"  # a mail the bot wrote, come back (a forward, a loop)
CONFIGURED = "configured"  # matched one of the shop's [email] automatic_* patterns
KINDS = (AUTO_REPLY, BULK, BOUNCE, REPORT, OWN_MAIL, CONFIGURED)

# Hotmail's junk-mail reports (JMRP) are no multipart/report: a fixed subject, the mail attached.
_FEEDBACK_SUBJECT = re.compile(r"^\s*complaint about message from \d", re.IGNORECASE)
_ADDRESS = re.compile(r"[^\s<>;@]{1,64}@[^\s<>;]{1,255}")  # bounded: no rescans of long runs


@dataclass(frozen=True)
class Automatic:
    kind: str  # one of KINDS
    reason: str  # which sign, e.g. "X-Loop header"; never an address or a subject


@dataclass(frozen=True)
class AutomaticRules:
    """The shop's own patterns ([email] automatic_subjects, automatic_headers), compiled.
    Picklable: handed to the parsing workers with each mail."""

    subjects: tuple[re.Pattern[str], ...] = ()
    headers: tuple[tuple[str, re.Pattern[str]], ...] = field(default=())

    @classmethod
    def from_settings(cls, subjects: list[str], headers: list[str]) -> AutomaticRules:
        """Raises ValueError naming the bad entry (config.py checks the same at start)."""
        return cls(subjects=tuple(_compile(pattern) for pattern in subjects),
                   headers=tuple(parse_header_rule(rule) for rule in headers))


NO_RULES = AutomaticRules()
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 ftext


def parse_header_rule(rule: str) -> tuple[str, re.Pattern[str]]:
    """"Name: regex" -> (name, compiled regex); ValueError when it is not one."""
    name, colon, pattern = rule.partition(":")
    if not colon or not _HEADER_NAME.fullmatch(name.strip()):
        raise ValueError(f"expected \"Header-Name: regex\", got {rule!r}")
    return name.strip(), _compile(pattern.strip())


def classify(
    message: Message, mail_from: str | None, domain: str = "", rules: AutomaticRules = NO_RULES
) -> Automatic | None:
    """Why this mail must not be answered, or None for a person's mail."""
    if message.get_content_type() == "multipart/report":
        is_dsn = str(message.get_param("report-type", "")).lower() == "delivery-status"
        if is_dsn or _has_dsn(message):
            return Automatic(BOUNCE, "delivery status report")
        return Automatic(REPORT, "multipart/report")
    if _FEEDBACK_SUBJECT.match(header_text(message, "Subject")):
        return Automatic(REPORT, "complaint feedback loop")
    if _has_dsn(message):
        return Automatic(BOUNCE, "delivery status part")
    bounce = bounce_sign(message, mail_from)
    if bounce is not None:
        return Automatic(BOUNCE, bounce)
    if _null_sender(mail_from):
        return Automatic(AUTO_REPLY, "null envelope sender")
    if is_null_address(header_text(message, "Return-Path")):
        return Automatic(AUTO_REPLY, "null Return-Path")
    if domain and _is_our_message_id(header_text(message, "Message-ID"), domain):
        return Automatic(OWN_MAIL, "Message-ID of the bot")
    sign = auto_reply_sign(message)
    if sign is not None:
        return Automatic(*sign)
    return _configured(message, rules)


def failed_recipients(message: Message, domain: str) -> list[str]:
    """The recipients a bounce reports as failed for good, lower-case: from an RFC 3464 report
    (Action: failed, or a 5.x.x Status), else from a plain-text notice (bounce_formats.py).

    Only a bounce of a mail we sent counts: its returned headers must hold a Message-ID of
    our domain. A report without them could be anyone's, and marks nothing.
    """
    if not _returns_our_mail(message, domain):
        return []
    if not _has_dsn(message):
        return text_failed_recipients(message, domain)
    failed: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = _header(block, "Action").lower()
            status = _header(block, "Status")
            if action != "failed" and not status.startswith("5"):
                continue
            recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
            found = _ADDRESS.search(recipient.partition(";")[2] or recipient)
            if found:
                failed.append(found.group(0).strip().lower())
    return list(dict.fromkeys(failed))


def _configured(message: Message, rules: AutomaticRules) -> Automatic | None:
    subject = header_text(message, "Subject")
    if any(pattern.match(subject) for pattern in rules.subjects):
        return Automatic(CONFIGURED, "email.automatic_subjects")
    for name, pattern in rules.headers:
        value = _header(message, name)
        if value and pattern.match(value):
            return Automatic(CONFIGURED, f"email.automatic_headers {name}")
    return None


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a regular expression ({error})") from None


def _is_our_message_id(value: str, domain: str) -> bool:
    """The bot's own Message-IDs only (threading.bot_message_id): people of the shop's own
    domain write from it too, and are answered."""
    bare = value.strip()
    return bool(bare) and (chat_id_in_bot_id(bare, domain) is not None or
                           _is_bot_id_without_chat(bare, domain))


def _is_bot_id_without_chat(value: str, domain: str) -> bool:
    return re.fullmatch(rf"<ob\.\d+\.[0-9a-f]{{10}}@{re.escape(domain)}>", value,
                        re.IGNORECASE) is not None


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return []


def _returns_our_mail(message: Message, domain: str) -> bool:
    suffix = "@" + domain.lower() + ">"
    ids: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            returned = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(returned, Message):
                ids.append(_header(returned, "Message-ID"))
        elif content_type == "text/rfc822-headers":
            ids.append(_text_header(part, "Message-ID"))
    # A plain-text notice carries the returned mail inside its own text.
    ids.extend(returned_message_ids(report_text(message)))
    return any(found.strip().lower().endswith(suffix) for found in ids)


def _text_header(part: Message, name: str) -> str:
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    match = re.search(rf"^{re.escape(name)}:[ \t]*(.+(?:\r?\n[ \t].+)*)", text,
                      re.IGNORECASE | re.MULTILINE)
    return " ".join(match.group(1).split()) if match else ""


def _has_dsn(message: Message) -> bool:
    """A delivery-status part of the mail itself: one inside an attached mail (a person
    forwarding a bounce) does not count."""
    return any(part.get_content_type() == "message/delivery-status"
               for part in _own_parts(message, 0))


def _own_parts(part: Message, depth: int) -> Iterator[Message]:
    yield part
    if part.get_content_type() == "message/rfc822" or depth > 20 or not part.is_multipart():
        return
    children = part.get_payload()
    for child in children if isinstance(children, list) else []:
        if isinstance(child, Message):
            yield from _own_parts(child, depth + 1)


def _null_sender(mail_from: str | None) -> bool:
    return mail_from is not None and mail_from.strip() in ("", "<>")


def _header(message: Message | EmailMessage | None, name: str) -> str:
    return " ".join(header_text(message, name).split())
