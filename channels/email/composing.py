"""One reply -> one mail: threaded headers, Auto-Submitted, plain text and a simple HTML part.

Everything from the message is escaped before it goes into the HTML; web addresses become
links only after escaping, so no markup of anyone's can get in.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from channels.email.options import numbered
from channels.email.threading import trim_references
from dialog.messages import Delivery

_URL = re.compile(r"https?://(?:[^\s<>&]|&amp;)+")  # matched in escaped text
_URL_END = ".,;:!?)"
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


class UnsendableReply(ValueError):
    """The conversation has no usable recipient; str() says why."""


@dataclass(frozen=True)
class MailParts:
    """What composing needs besides the delivery (the channel works these out)."""

    address: str  # the bot's own address: From and the envelope sender
    shop_name: str
    message_id: str  # this mail's Message-ID
    options_hint: str  # "Reply with the number of your choice:"
    default_subject: str  # for a thread without a subject
    stranger_subject: str  # to a sender whose From is not authenticated: "Your message to ..."


def compose(delivery: Delivery, parts: MailParts) -> EmailMessage:
    context = delivery.context
    outbound = delivery.outbound
    recipient = context.get("to")
    if not isinstance(recipient, str) or "@" not in recipient:
        raise UnsendableReply("the conversation has no email recipient")
    message = EmailMessage()
    try:
        message["From"] = Address(display_name=_safe(parts.shop_name), addr_spec=parts.address)
        message["To"] = Address(display_name=_safe(str(context.get("name") or "")),
                                addr_spec=_safe(recipient))
    except (ValueError, IndexError) as error:
        raise UnsendableReply(f"the recipient address is not usable ({error})") from None
    proactive = bool(context.get("proactive")) and not context.get("last")
    subject = _safe(str(context.get("subject") or "")) or parts.default_subject
    if context.get("authenticated") is False:
        # Never the sender's own subject: the From may be forged, and the shop's mail would
        # carry the forger's words ("Re: You won 500 EUR, claim at ...") to its owner.
        message["Subject"] = parts.stranger_subject
    else:
        message["Subject"] = subject if proactive else f"Re: {subject}"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = parts.message_id
    in_reply_to, references = _threading(context, parts.message_id)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    if outbound.sender != "operator":  # an operator's answer is a person's mail (RFC 3834)
        message["Auto-Submitted"] = "auto-generated" if proactive else "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers to the bot, please
    text_lines, html_body = _bodies(delivery, parts)
    message.set_content("\n".join(text_lines) + "\n")
    message.add_alternative(html_body, subtype="html")
    return message


def _threading(context: dict[str, object], own_id: str) -> tuple[str | None, list[str]]:
    """In-Reply-To the customer's last mail; References starting with the thread's root."""
    last = context.get("last")
    root = context.get("root")
    given = context.get("references")  # a list: the context went through JSON
    references = [r for r in given if isinstance(r, str)] if isinstance(given, list) else []
    if isinstance(root, str) and root != own_id and root not in references:
        references.insert(0, root)
    references = [r for r in references if r != own_id]
    in_reply_to = last if isinstance(last, str) else (references[-1] if references else None)
    return (_safe(in_reply_to) if in_reply_to else None), [_safe(r) for r in
                                                          trim_references(references)]


def _bodies(delivery: Delivery, parts: MailParts) -> tuple[list[str], str]:
    outbound = delivery.outbound
    text = outbound.text.replace("\r\n", "\n").strip()
    signature = [outbound.author, parts.shop_name] if outbound.author else [parts.shop_name]
    lines = [text]
    paragraphs = [_paragraph(text)]
    if outbound.buttons:
        options = numbered(outbound.buttons)
        lines += ["", parts.options_hint, *options]
        items = "".join(f"<li>{html.escape(b.title)}</li>" for b in outbound.buttons)
        paragraphs.append(f"<p>{html.escape(parts.options_hint)}</p><ol>{items}</ol>")
    lines += ["", "-- ", *signature]
    paragraphs.append(
        '<p style="color:#666">' + "<br>".join(html.escape(s) for s in signature) + "</p>"
    )
    body = "\n".join(paragraphs)
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family:sans-serif">\n{body}\n</body></html>\n'
    )
    return lines, page


def _paragraph(text: str) -> str:
    blocks = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "\n".join(f"<p>{_linked(block).replace(chr(10), '<br>')}</p>" for block in blocks)


def _linked(text: str) -> str:
    escaped = html.escape(text)
    return _URL.sub(_link, escaped)


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    trimmed = url.rstrip(_URL_END)
    return f'<a href="{trimmed}">{trimmed}</a>{url[len(trimmed):]}'


def _safe(value: str) -> str:
    """A header value cannot carry line breaks (header injection) or control characters."""
    return _HEADER_UNSAFE.sub(" ", value).strip()
