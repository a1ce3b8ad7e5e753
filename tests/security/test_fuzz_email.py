"""The mail parser fuzzed with hypothesis: whatever bytes arrive over SMTP, parse_mail gives
either a ParsedMail the bot can use safely or UnreadableMail (answered 554 by the listener),
never another exception; and what it gives is bounded and free of control characters.

The examples are derandomised (the same ones on every run, so that CI is repeatable); set
ORDERBOT_FUZZ_EXAMPLES to fuzz longer locally, e.g. 20000.
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.html_text import html_to_text
from channels.email.parsing import (
    MAX_SUBJECT_CHARS,
    MAX_TEXT_CHARS,
    ParsedMail,
    UnreadableMail,
    parse_mail,
)
from channels.email.quoting import strip_quotes
from channels.email.threading import thread_of

DOMAIN = "shop.example"
EXAMPLES = int(os.environ.get("ORDERBOT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # what no text the bot keeps may hold
ADDRESS = re.compile(r"[^\s@<>,;\"\\]{1,64}@[^\s@<>,;\"\\]{1,189}")

# Pieces a hostile or broken mail is made of
HEADER_NAMES = ["From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Precedence",
                "Return-Path", "X-Random", "Content-Disposition", "MIME-Version"]
CONTENT_TYPES = ["text/plain", "text/html", "multipart/alternative", "multipart/mixed",
                 "multipart/report", "message/rfc822", "message/delivery-status",
                 "application/octet-stream", "text/plain; format=flowed; delsp=yes",
                 "text/x-unknown", "multipart/", ""]
CHARSETS = ["utf-8", "iso-8859-2", "koi8-r", "windows-1251", "us-ascii", "utf-16", "x-nope",
            "", "utf-8\"; x=\"", "unicode-1-1-utf-7"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "gzip", ""]
ODD_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from([
        "=?utf-8?b?!!!notbase64?=", "=?x-unknown?q?=FF?=", "=?utf-8?q?=E2=80?=",
        "<<<>>>", "<a@b> " * 50, "\"quoted, name\" <olivia.brown@example.com>", "<>",
        "undisclosed-recipients:;", "a@b@c", "olivia.brown@example.com\r\nBcc: x@y",
        "=?utf-8?b?" + "QUFB" * 400 + "?=", "\udcff", "Re: Re: Odp: AW: Fwd: order",
    ]),
)


def _header_line(name: str, value: str) -> bytes:
    return f"{name}: {value}\r\n".encode("utf-8", "surrogateescape")


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    """One MIME entity: headers and a body, multiparts nested up to a few levels."""
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    head = b""
    if content_type.startswith("multipart/") and depth < 3:
        boundary = draw(st.sampled_from(["b", "=_x", "", "b\"", "a" * 80]))
        head += _header_line("Content-Type", f'{content_type}; boundary="{boundary}"')
        children = draw(st.lists(parts(depth + 1), max_size=3))
        body = b"".join(f"--{boundary}\r\n".encode() + child for child in children)
        if draw(st.booleans()):
            body += f"--{boundary}--\r\n".encode()
    else:
        if content_type:
            head += _header_line("Content-Type", f"{content_type}; charset={charset}")
        if encoding:
            head += _header_line("Content-Transfer-Encoding", encoding)
        body = draw(st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
            st.sampled_from([b"<div>" * 200 + b"where is my order", b"%%%% not base64 %%%%",
                             b"=\r\n=FF=ZZ=", b"> quoted\r\n> lines\r\nOn Monday X wrote:\r\n",
                             b"-- \r\nsignature", b"\x00\x01\x02\x7f"]),
        ))
    return head + b"\r\n" + body + b"\r\n"


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), ODD_TEXT), max_size=12))
    raw = b"".join(_header_line(name, value) for name, value in headers)
    return raw + draw(parts())


def check(mail: ParsedMail) -> None:
    """What the rest of the bot relies on, whatever the input was."""
    assert len(mail.text) <= MAX_TEXT_CHARS
    assert not CONTROL.search(mail.text), mail.text
    assert len(mail.subject) <= MAX_SUBJECT_CHARS and not CONTROL.search(mail.subject)
    assert "\n" not in mail.sender_name and len(mail.sender_name) <= 100
    assert mail.sender is None or ADDRESS.fullmatch(mail.sender), mail.sender
    assert mail.sender is None or mail.sender == mail.sender.lower()
    for message_id in [mail.message_id, *mail.in_reply_to, *mail.references]:
        assert message_id is None or (message_id.startswith("<") and message_id.endswith(">"))
    assert mail.fingerprint.startswith("sha256:")
    if mail.sender is not None:  # the conversation key is computed for every answerable mail
        thread = thread_of(message_id=mail.message_id, in_reply_to=mail.in_reply_to,
                           references=mail.references, sender=mail.sender, domain=DOMAIN,
                           fallback_id=mail.fingerprint)
        assert thread.chat_id and len(thread.chat_id) <= 200  # the chat_id columns


def parse(raw: bytes, mail_from: str | None) -> None:
    try:
        mail = parse_mail(raw, mail_from, DOMAIN)
    except UnreadableMail as refused:
        assert str(refused)  # the reason the SMTP answer gives
    else:
        check(mail)


@FUZZ
@given(raw=st.binary(max_size=2048), mail_from=st.one_of(st.none(), st.just(""), ODD_TEXT))
def test_any_bytes_are_parsed_or_refused_with_a_reason(raw: bytes, mail_from: str | None) -> None:
    parse(raw, mail_from)


@FUZZ
@given(raw=mails(), mail_from=st.sampled_from([None, "", "someone@example.net", "<>"]))
def test_broken_mime_structures_are_parsed_or_refused_with_a_reason(
    raw: bytes, mail_from: str | None,
) -> None:
    parse(raw, mail_from)


@FUZZ
@given(html=st.one_of(st.text(max_size=500), st.lists(st.sampled_from(
    ["<div>", "</div>", "<blockquote>", "</blockquote>", "<br>", "<p>", "<!--", "-->",
     "<script>", "</script>", "<style>", "&amp;", "&#0;", "&#x110000;", "<a href=x>", "text",
     "<![CDATA[", "]]>", "<", ">", "\x00"]), max_size=60).map("".join)))
def test_html_to_text_and_quote_stripping_never_fail(html: str) -> None:
    text = strip_quotes(html_to_text(html))
    assert isinstance(text, str)
    assert "<script>" not in text or "<script>" in html  # nothing is invented
