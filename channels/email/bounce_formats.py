"""Bounces that are not RFC 3464 reports: the plain-text notices of qmail, Exim, Postfix,
Sendmail, Gmail, Yahoo, Exchange, Lotus Notes and others, and who they say failed.

A bounce does not always come with a null envelope sender: a forwarding relay, or an MTA that
writes MAILER-DAEMON or postmaster as the return path, hands it on like any mail. So it is
recognised by what it is made of:

- a sign no person's mail has: a From, envelope sender or Return-Path of a mail system
  (MAILER-DAEMON, postmaster...), Exim's X-Failed-Recipients, Exchange's NDR header;
- or two of the weaker signs together: a bounce title as the subject (anchored, "Undelivered
  Mail Returned to Sender"), the fixed sentences the MTAs open their notice with ("This is
  the qmail-send program"), the returned mail attached. A person's "Delivery failure - my
  parcel never came" has one at most; so has a person forwarding a bounce ("Fwd: ..." is no
  bounce title, and the MTA's sentence is not at the top of their mail).
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import parseaddr

from channels.email.headers import header_text
from channels.email.html_text import html_to_text

MAX_REPORT_CHARS = 20_000  # of the notice's text: the MTAs' part is at its top

# RFC 3834 §2 names MAILER-DAEMON; postmaster (RFC 5321 §4.5.1) is the mail system's own.
_DAEMONS = frozenset({"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon",
                      "maildaemon", "postmaster", "post_master", "mdaemon"})
# Display names the MTAs sign with ("MAILER-DAEMON <>", "Mail Delivery System <...>").
_DAEMON_NAMES = frozenset({"mailer-daemon", "mailer daemon", "mail delivery system",
                           "mail delivery subsystem", "mail deliver system", "postmaster"})
_ADDRESS = r"[^\s<>()\[\];:,\"@]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}"
_ANY_ADDRESS = re.compile(_ADDRESS)

_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)?(?:"
    r"delivery status notification|undelivered mail|undeliverable|undelivered message|"
    r"undeliverable mail|non[- ]?deliverable|non[- ]?delivery|failure notice|failure delivery|"
    r"mail delivery failed|mail delivery failure|mail delivery problem|mail delivery warning|"
    r"e?-?mail delivery failure|delivery failure|delivery failed|delivery notification|"
    r"delivery status|delivery problem|returned mail|returned to sender|"
    r"mail (?:could )?not (?:be )?delivered|message (?:could )?not (?:be )?delivered|"
    r"mail system error|warning: message|delayed mail|"
    r"your message to .{1,100} could not be delivered|"
    r"unzustellbar|nicht zustellbar|non remis|non distribuable|échec de la remise|"
    r"non recapitabile|mancato recapito|no se puede entregar|no entregado|onbestelbaar|"
    r"olevererbart|kan inte levereras|"
    r"niedostarczona|niedostarczalna|nie można dostarczyć|wiadomość niedostarczona|"
    r"не доставлено|недоставленное сообщение|сообщение не доставлено|ошибка доставки|"
    r"не удалось доставить"
    r")",
    re.IGNORECASE,
)
# The sentences only an MTA writes at the top of its notice: one is enough there.
_OPENING = re.compile(
    r"this is the qmail-send program|"
    r"this message was created automatically by mail delivery software|"
    r"this is the mail system at host|this is the postfix program|"
    r"i'm sorry to have to inform you that your message could not|"
    r"the following addresses had permanent fatal errors|"
    r"delivery has failed to these recipients|"
    r"your message did not reach some or all of the intended recipients|"
    r"\*\* (?:address not found|message not delivered|delivery incomplete) \*\*|"
    r"this is an automatically generated delivery status notification|"
    r"could not be delivered to one or more recipients",
    re.IGNORECASE,
)
# Sentences a person might write too: a sign only beside a bounce title.
_NOTICE = re.compile(
    rf"{_OPENING.pattern}|"
    r"the original message was received at|"
    r"delivery to the following recipients? failed|"
    r"your message (?:to \S{1,254} )?(?:wasn't|was not|couldn't be|could not be) delivered|"
    r"sorry, we were unable to deliver your message|"
    r"unable to deliver (?:the )?message to the following|"
    r"message could not be delivered to|"
    r"was not delivered to:|delivery failure report|non-delivery report|"
    r"your message cannot be delivered|a message that you sent could not be delivered|"
    r"could not be delivered to the following|could not deliver (?:the )?message to the|"
    r"delivery of (?:e-?mail|your message) to this address|-{3,} ?failed recipients ?-{3,}|"
    r"ihre nachricht konnte nicht zugestellt werden|"
    r"wiadomość nie została dostarczona|nie udało się dostarczyć (?:wiadomości|poczty)|"
    r"ваше сообщение не (?:было )?доставлено|сообщение не (?:может быть |было )?доставлено|"
    r"не удалось доставить (?:ваше )?(?:сообщение|письмо)",
    re.IGNORECASE,
)
# A notice that the MTA is still trying: nobody failed for good yet.
_STILL_TRYING = re.compile(
    r"\(delay\)|delayed|not yet been delivered|will (?:continue|keep) (?:trying|to try)|"
    r"still (?:be )?(?:being )?(?:retried|trying)|will be retried|temporary failure",
    re.IGNORECASE,
)
# Where the returned mail (or its headers) starts inside the notice's text.
_RETURNED_START = re.compile(
    r"^(?:[-=_* ]*(?:below this line is a copy|this is a copy of the message|original message|"
    r"returned message|unsent message|undelivered message|the header of the original)|"
    r"(?:received|return-path|message-id|dkim-signature|mime-version|x-[\w-]+):\s)",
    re.IGNORECASE | re.MULTILINE,
)
# A line that names a recipient: the address alone, or at the start ("<a@b>: host said...").
_RECIPIENT_LINE = re.compile(rf"^[ \t]*<?({_ADDRESS})>?(?:[ \t]*$|[ \t]*:|>|\.\.\.)",
                             re.MULTILINE)
_REPLY_OR_FORWARD = re.compile(r"^\s*(?:re|aw|sv|odp|fwd?|fw|wg|tr|rv|pd|ответ|отв)\s*:",
                               re.IGNORECASE)


def bounce_sign(message: Message, mail_from: str | None) -> str | None:
    """Why this mail is a bounce (a reason without personal data), or None."""
    if header_text(message, "X-Failed-Recipients"):
        return "X-Failed-Recipients header"
    if header_text(message, "X-MS-Exchange-Message-Is-Ndr"):
        return "Exchange NDR header"
    from_header = _from_address(message)
    if is_null_address(from_header):
        return "null From"
    for source, address in (("From", from_header),
                            ("envelope sender", mail_from or ""),
                            ("Return-Path", header_text(message, "Return-Path"))):
        if is_mail_system(address):
            return f"{source} of a mail system"
    subject = header_text(message, "Subject")
    titled = bool(_SUBJECT.match(subject))
    text = report_text(message)
    opens_like_mta = bool(_OPENING.search(_top_lines(text, 3))) and \
        not _REPLY_OR_FORWARD.match(subject)
    if titled and _NOTICE.search(text[:3000]):
        return "bounce subject and text"
    if titled and _returns_a_mail(message):
        return "bounce subject and returned mail"
    if opens_like_mta:
        return "bounce text"
    return None


def is_mail_system(address: str) -> bool:
    """Whether an address (bare, <...> or with a display name) is a mail system's own: a
    MAILER-DAEMON or postmaster mailbox, or an MTA's display name."""
    name, bare = parseaddr(address)
    local = (bare.rpartition("@")[0] if "@" in bare else bare).strip().lower()
    # Exchange Online signs its notices as MicrosoftExchange<hex>@<tenant>.
    return local in _DAEMONS or name.strip().lower() in _DAEMON_NAMES or \
        re.fullmatch(r"microsoftexchange[0-9a-f]{32}", local) is not None


def is_null_address(address: str) -> bool:
    """"<>" (or a display name with it): the null return path of RFC 5321."""
    return "<>" in address and not parseaddr(address)[1]


def text_failed_recipients(message: Message, domain: str) -> list[str]:
    """Who a plain-text notice says failed for good, lower-case; none from a delay warning.

    Read from Exim's X-Failed-Recipients, else from the lines of the notice above the
    returned mail that name an address alone or at their start (qmail "<a@b>:", Postfix
    "<a@b>: host ... said", Sendmail "<a@b>... User unknown", Gmail, Exchange and Exim's
    indented address). Addresses of our own domain and of mail systems are never taken."""
    header = header_text(message, "X-Failed-Recipients")
    text = report_text(message)
    if _STILL_TRYING.search(header_text(message, "Subject")) or \
            _STILL_TRYING.search(_before_returned(text)[:3000]):
        return []
    if header:
        found = _ANY_ADDRESS.findall(header)
    else:
        found = _RECIPIENT_LINE.findall(_before_returned(text))
    own = "@" + domain.lower()
    return list(dict.fromkeys(
        address.lower() for address in found
        if not address.lower().endswith(own) and not is_mail_system(address)))


def report_text(message: Message) -> str:
    """The notice's own text: the first text part outside any returned mail (HTML as
    text), at most MAX_REPORT_CHARS."""
    part = _first_text_part(message, depth=0)
    if part is None:
        return ""
    raw = part.get_payload(decode=True)
    charset = part.get_content_charset() or "utf-8"
    try:
        text = raw.decode(charset, "replace") if isinstance(raw, bytes) else ""
    except LookupError:  # an unknown charset
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    if part.get_content_type() == "text/html":
        text = html_to_text(text[:2 * MAX_REPORT_CHARS])  # its top is enough
    return text[:MAX_REPORT_CHARS].replace("\r\n", "\n")


def returned_message_ids(text: str) -> list[str]:
    """The Message-ID header values written out inside a notice's text (the returned
    mail's headers), "<...>" each."""
    return re.findall(r"^[ \t>]*message-id:[ \t]*(<[^>\s]{1,250}>)", text,
                      re.IGNORECASE | re.MULTILINE)


def _first_text_part(part: Message, depth: int) -> Message | None:
    content_type = part.get_content_type()
    if content_type in ("text/plain", "text/html"):
        return part
    if not part.is_multipart() or depth > 10 or content_type == "message/rfc822":
        return None
    children = part.get_payload()
    html: Message | None = None
    for child in children if isinstance(children, list) else []:
        if not isinstance(child, Message):
            continue
        found = _first_text_part(child, depth + 1)
        if found is not None and found.get_content_type() == "text/plain":
            return found
        html = html or found
    return html


def _returns_a_mail(message: Message) -> bool:
    return any(part.get_content_type() in ("message/rfc822", "text/rfc822-headers")
               for part in message.walk())


def _before_returned(text: str) -> str:
    start = _RETURNED_START.search(text)
    return text[:start.start()] if start else text


def _top_lines(text: str, count: int) -> str:
    lines = [line for line in text.splitlines()[:40] if line.strip()]
    return "\n".join(lines[:count])


def _from_address(message: Message) -> str:
    return header_text(message, "From") or header_text(message, "Sender")
