"""One received mail (RFC 5322 bytes) -> what the bot needs of it: who, which thread, what text.

Parsed with the standard library (BytesParser, policy.default). The text is the text/plain
alternative when there is one, else the HTML converted to text; quoted history and the
signature are cut off, and it is capped at MAX_TEXT_CHARS. Anything the parser cannot make
sense of raises UnreadableMail, never another exception.

Every step is bounded, because a mail is whatever its sender made it: more than MAX_PARTS
MIME parts is refused while parsing (the standard parser spends seconds on thousands), and
the text is cut to MAX_SCANNED_CHARS before the quote patterns read it. The listener runs
this in a worker process with a time limit (parse_workers.py): the result is picklable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses

from channels.email.attached_files import MailFile, mail_files
from channels.email.authentication import from_is_authenticated
from channels.email.automatic import BOUNCE, NO_RULES, AutomaticRules, classify, failed_recipients
from channels.email.headers import MAX_ID_HEADER_CHARS, header_text
from channels.email.html_text import html_to_text
from channels.email.language_hint import mail_language
from channels.email.quoting import strip_quotes
from channels.email.threading import message_ids

MAX_TEXT_CHARS = 4000
MAX_SUBJECT_CHARS = 200
MAX_PARTS = 100  # a customer's mail has a few; photos of a parcel a dozen
MAX_SCANNED_CHARS = 20_000  # of the body, read for quotes; the customer writes at the top
MAX_HTML_CHARS = 200_000  # of an HTML body, converted to text
MAX_IDS = 100  # Message-IDs kept of In-Reply-To and of References: the root and the latest
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|odp|odpowiedź|ответ|отв|fwd?|fw|pd|przekaż|wg|tr|rv|enc)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# An address we can answer: no spaces, brackets, separators or undecodable bytes; RFC lengths.
_ADDRESS_CHAR = r"[^\s@<>,;\"\\\x00-\x1f\x7f\ufffd]"
_ADDRESS = re.compile(rf"{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}{{1,189}}")


class UnreadableMail(ValueError):
    """The mail cannot be parsed at all; str() is the reason (given in the SMTP answer)."""


class _TooManyParts(Exception):
    """Raised from inside the parser at the part past MAX_PARTS."""


@dataclass(frozen=True)
class ParsedMail:
    sender: str | None  # the From address, lower-case
    sender_name: str
    subject: str  # without Re:/Odp:/Fwd: prefixes
    text: str  # what the customer wrote, without quotes and signature
    message_id: str | None  # "<...>", None if the mail has none
    fingerprint: str  # a hash of the raw mail: the dedupe key when Message-ID is missing
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    automatic: str | None = None  # why not to answer (automatic.AUTO_REPLY, BULK, BOUNCE...)
    automatic_reason: str = ""  # which sign made it automatic (no personal data)
    failed_recipients: list[str] = field(default_factory=list)  # of a bounce
    # The shop's mail server vouches for the From address (authentication.py); False: anyone
    # may have written it, and the sender is a stranger.
    authenticated: bool = False
    # Of a human mail with no text of its own: the language its subject and quote are in (the
    # bot asks in it whether the customer meant to write something).
    language: str | None = None
    # Its image and PDF parts (attached_files.py), to be checked and kept as attachments.
    files: list[MailFile] = field(default_factory=list)


def parse_mail(
    raw: bytes, mail_from: str | None, domain: str, authserv_id: str = "",
    rules: AutomaticRules = NO_RULES,
) -> ParsedMail:
    """mail_from is the envelope sender (MAIL FROM), "" for a bounce's null sender;
    authserv_id the id of the shop's mail server in Authentication-Results ("": no mail is
    authenticated); rules the shop's extra patterns of automatic mail."""
    try:
        message = _parser().parsebytes(raw)
        assert isinstance(message, EmailMessage)
        verdict = classify(message, mail_from, domain, rules)
        automatic = verdict.kind if verdict else None
        name, address = _sender(message, mail_from)
        ids = message_ids(_ids_header(message, "Message-ID"))
        subject = header_text(message, "Subject")
        text = "" if automatic else body_text(message)
        return ParsedMail(
            sender=address,
            sender_name=name,
            subject=clean_subject(subject),
            text=text,
            message_id=ids[0] if ids else None,
            fingerprint="sha256:" + hashlib.sha256(raw).hexdigest()[:48],
            in_reply_to=_bounded(message_ids(_ids_header(message, "In-Reply-To"))),
            references=_bounded(message_ids(_ids_header(message, "References"))),
            automatic=automatic,
            automatic_reason=verdict.reason if verdict else "",
            failed_recipients=failed_recipients(message, domain) if automatic == BOUNCE else [],
            authenticated=from_is_authenticated(message, address, authserv_id),
            language=None if automatic or text else mail_language(
                f"{subject[:MAX_SUBJECT_CHARS]}\n{_body_content(message)}"),
            files=[] if automatic else mail_files(message),
        )
    except _TooManyParts:
        raise UnreadableMail(f"the message has more than {MAX_PARTS} MIME parts") from None
    except (RecursionError, MemoryError):
        raise UnreadableMail("the message structure is too deeply nested") from None
    except Exception as error:  # the stdlib parser has many ways to give up on bad input
        raise UnreadableMail(f"the message could not be parsed ({type(error).__name__})") from None


def body_text(message: EmailMessage) -> str:
    """The customer's words: plain text preferred, HTML converted, quotes cut, capped."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _content(part)
    if part.get_content_type() != "text/html":
        if str(part.get_param("format", "")).lower() == "flowed":
            content = _unflow(content[:MAX_SCANNED_CHARS],
                              str(part.get_param("delsp", "")).lower() == "yes")
        return _new_text(content)
    html = content[:MAX_HTML_CHARS]
    text = _new_text(html_to_text(html))
    # Everything inside quote markup and no reply header above it: the customer wrote it so
    # (an HTML forward, or a client that wraps the whole text): the text is cut as plain.
    return text or _new_text(html_to_text(html, quotes=True))


def _body_content(message: EmailMessage) -> str:
    """The body's words, quotes included (an HTML body without its markup, whose Latin tags
    would outweigh a Russian quote): what the language of a mail with no new text is read
    from."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _content(part)
    if part.get_content_type() == "text/html":
        content = html_to_text(content[:MAX_HTML_CHARS], quotes=True)
    return content[:MAX_SCANNED_CHARS]


def _new_text(content: str) -> str:
    content = content[:MAX_SCANNED_CHARS]  # before any pattern reads it
    content = _CONTROL.sub("", content.replace("\r\n", "\n").replace("\r", "\n"))
    return strip_quotes(content)[:MAX_TEXT_CHARS].strip()


def clean_subject(subject: str) -> str:
    subject = " ".join(_CONTROL.sub(" ", subject[:4 * MAX_SUBJECT_CHARS]).split())
    return _REPLY_PREFIX.sub("", subject).strip()[:MAX_SUBJECT_CHARS]


class _PartCounter:
    """The parser's message factory: makes each MIME part, and stops the parse at the part
    past MAX_PARTS (instead of parsing thousands and refusing afterwards)."""

    def __init__(self) -> None:
        self.parts = 0

    def __call__(self, policy: policy.Policy[EmailMessage] | None = None) -> EmailMessage:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _TooManyParts
        return EmailMessage(policy)


def _parser() -> BytesParser:
    return BytesParser(policy=policy.default.clone(message_factory=_PartCounter()))


def _ids_header(message: EmailMessage, name: str) -> str:
    return header_text(message, name, MAX_ID_HEADER_CHARS)


def _bounded(ids: list[str]) -> list[str]:
    """The first id (a thread's root) and the latest: threading needs no more, and a header
    of thousands of ids would cost every step after it."""
    return ids if len(ids) <= MAX_IDS else [ids[0], *ids[-(MAX_IDS - 1):]]


def _content(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        content = None  # an unknown charset or a broken transfer encoding: decode leniently
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return ""


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676: a line ending in a space continues on the next line of the same quote depth
    (a quoted "> Hi " does not swallow the answer below it); a leading space is stuffing."""
    out: list[tuple[int, str]] = []  # (quote depth, text)
    flowed = False
    for line in text.replace("\r\n", "\n").split("\n"):
        content = line.lstrip(">")
        depth = len(line) - len(content)
        if content.startswith(" "):
            content = content[1:]
        if flowed and out and out[-1][0] == depth:
            previous = out[-1][1]
            out[-1] = (depth, (previous[:-1] if delsp else previous) + content)
        else:
            out.append((depth, content))
        flowed = content.endswith(" ") and content != "-- "
    return "\n".join(">" * depth + " " + content if depth else content
                     for depth, content in out)


def _sender(message: EmailMessage, mail_from: str | None) -> tuple[str, str | None]:
    """The From address (the envelope sender when the header has none), lower-case."""
    for name, address in getaddresses([header_text(message, "From")]):
        if _ADDRESS.fullmatch(address):
            return " ".join(_CONTROL.sub(" ", name).split())[:100], address.lower()
    envelope = (mail_from or "").strip().strip("<>")
    if _ADDRESS.fullmatch(envelope):
        return "", envelope.lower()
    return "", None

