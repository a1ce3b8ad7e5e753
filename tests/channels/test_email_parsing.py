"""The email channel's pure parts: reading mail, cutting quotes, threads, options, composing.

No servers here. hypothesis is not installed, so instead of a fuzz run there is a table of
nasty inputs that each must parse to a bounded text or be refused with UnreadableMail.
"""

from __future__ import annotations

import pytest

from channels.email.automatic import AUTO_REPLY, BOUNCE, BULK, REPORT
from channels.email.composing import MailParts, UnsendableReply, compose
from channels.email.html_text import html_to_text
from channels.email.options import chosen_button, numbered
from channels.email.parsing import (
    MAX_TEXT_CHARS,
    ParsedMail,
    UnreadableMail,
    clean_subject,
    parse_mail,
)
from channels.email.quoting import strip_quotes
from channels.email.sending import failure
from channels.email.threading import (
    MAX_REFERENCES,
    bot_message_id,
    chat_id_for,
    chat_id_in_bot_id,
    message_ids,
    thread_of,
)
from dialog.messages import Button, ConversationKey, Delivery, Outbound

DOMAIN = "shop.example"


def mail(headers: str, body: str = "Hello", content_type: str = "text/plain") -> bytes:
    head = headers.strip().replace("\n", "\r\n")
    return (f"{head}\r\nContent-Type: {content_type}\r\n\r\n{body}").encode()


def parse(raw: bytes, mail_from: str | None = "olivia@example.com") -> ParsedMail:
    return parse_mail(raw, mail_from, DOMAIN)


# Reading mail

NASTY = [
    b"",
    b"\r\n\r\n",
    b"no headers at all, just words",
    b"\x00\x01\x02\xff\xfe" * 200,
    b"From: \xff\xfe <bad@\xff>\r\nSubject: \xc3\x28\r\n\r\nbody \xff",
    mail("From: a@example.com", "=?utf-8?b?!!!notbase64?=", "text/plain; charset=x-unknown"),
    mail("From: a@example.com\nContent-Transfer-Encoding: base64", "%%%not base64%%%"),
    mail("From: a@example.com\nContent-Transfer-Encoding: quoted-printable", "=ZZ=\r\n=3"),
    mail("From: a@example.com", "--x\r\nno closing boundary", 'multipart/mixed; boundary="x"'),
    mail("From: a@example.com", "text", "multipart/alternative"),  # no boundary
    mail("From: a@example.com", "<p>unclosed <b><i><div class=gmail_quote>", "text/html"),
    mail("From: a@example.com", "<script>alert(1)</script>" * 500, "text/html"),
    mail("From: " + "x" * 5000 + "@example.com\nSubject: " + "s" * 10000, "y" * 100_000),
    mail("From: a@example.com\nMessage-ID: <" + "i" * 3000 + "@x>\nReferences: " + "<r@x> " * 500),
    mail("From: a@example.com\nIn-Reply-To: garbage without brackets\nReferences: ,,,;;;"),
    mail("From: undisclosed-recipients:;\nTo: ;", "hi"),
    mail("From: =?utf-8?q?Ol=C3=ADvia?= <olivia@example.com>", "caf\xe9", "text/plain"),
    mail("From: a@example.com",
         "".join(f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
                 for i in range(3000)), 'multipart/mixed; boundary="b0"'),
    mail("From: a@example.com", "x", "message/rfc822"),
    mail("From: a@example.com", "\r\n".join(["> quoted"] * 1000), "text/plain"),
]


@pytest.mark.parametrize("raw", NASTY, ids=range(len(NASTY)))
def test_nasty_input_parses_to_bounded_text_or_is_refused(raw: bytes) -> None:
    try:
        parsed = parse(raw)
    except UnreadableMail as refused:
        assert str(refused)
        return
    assert isinstance(parsed.text, str) and len(parsed.text) <= MAX_TEXT_CHARS
    assert len(parsed.subject) <= 200 and "\n" not in parsed.subject
    assert parsed.fingerprint.startswith("sha256:")
    assert parsed.sender is None or (len(parsed.sender) <= 254 and "\ufffd" not in parsed.sender)
    assert "<script>" not in parsed.text and "alert(1)" not in parsed.text


def test_a_mail_of_more_than_100_parts_is_refused_while_it_is_parsed() -> None:
    def parts(count: int) -> bytes:
        body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"
                       for i in range(count))
        return mail("From: a@example.com", body + "--b--", 'multipart/mixed; boundary="b"')

    assert parse(parts(99)).text == "part 0"  # 100 parts with the multipart itself
    with pytest.raises(UnreadableMail, match="more than 100 MIME parts"):
        parse(parts(100))


def test_the_sender_is_the_from_address_in_lower_case() -> None:
    parsed = parse(mail('From: "Olivia Brown" <Olivia.Brown@Example.COM>\nSubject: Re: Odp: x'))
    assert (parsed.sender, parsed.sender_name) == ("olivia.brown@example.com", "Olivia Brown")
    assert parse(mail("Subject: no from"), mail_from="bob@example.com").sender == "bob@example.com"
    assert parse(mail("Subject: no from"), mail_from="").sender is None


def test_html_only_mail_becomes_text() -> None:
    parsed = parse(mail("From: a@example.com",
                        "<p>Where is <b>A-1015</b>?</p><p>Thanks&nbsp;&amp; bye</p>", "text/html"))
    assert parsed.text == "Where is A-1015?\n\nThanks & bye"


def test_format_flowed_lines_are_joined() -> None:
    parsed = parse(mail("From: a@example.com", "Where is my \r\norder A-1015?\r\n",
                        "text/plain; format=flowed"))
    assert parsed.text == "Where is my order A-1015?"


@pytest.mark.parametrize("subject, clean", [
    ("Re: Order", "Order"), ("RE: Re: Fwd: Order", "Order"), ("Odp: Zamówienie", "Zamówienie"),
    ("Re[2]: Order", "Order"), ("Ответ: Заказ", "Заказ"), ("Fw: Order", "Order"),
    ("Reorder please", "Reorder please"), ("Re:\r\n  folded", "folded"),
])
def test_reply_prefixes_leave_the_subject(subject: str, clean: str) -> None:
    assert clean_subject(subject) == clean


# Quotes and signatures

QUOTED = [
    ("Where is A-1015?\n\nOn Mon, 2 Mar 2026 at 10:00, Shop <o@s.example> wrote:\n> talk to a "
     "person", "Where is A-1015?"),
    ("Where is A-1015?\n\nOn Mon, 2 Mar 2026 at 10:00, Demo Shop <\no@s.example> wrote:\n"
     "talk to a person", "Where is A-1015?"),
    ("Gdzie A-1017?\n\nW dniu 02.03.2026 o 10:00, Sklep pisze:\n> konsultant", "Gdzie A-1017?"),
    ("Gdzie A-1017?\n\npon., 2 mar 2026 o 10:00 Sklep <o@s.example> napisał(a):\n> x",
     "Gdzie A-1017?"),
    ("Где заказ?\n\n2 марта 2026 г., 10:00, Магазин написал(а):\n> оператор", "Где заказ?"),
    ("Где заказ?\n\nпн, 2 мар. 2026 г. в 10:00, Магазин <o@s.example>:\n> оператор",
     "Где заказ?"),
    ("Where?\n\n-----Original Message-----\nFrom: Shop\nSent: Monday\ntalk to a person",
     "Where?"),
    ("Where?\n\n________________________________\nFrom: Shop <o@s.example>\nSent: Monday",
     "Where?"),
    ("Where?\n\nFrom: Demo Shop <o@s.example>\nSent: Monday, 2 March 2026\nTo: me", "Where?"),
    ("Gdzie?\n\nOd: Sklep <o@s.example>\nWysłano: poniedziałek\nDo: ja", "Gdzie?"),
    ("Where?\n-- \nOlivia\ntalk to a person", "Where?"),
    ("Where?\n\nSent from my iPhone", "Where?"),
    ("Gdzie?\n\nWysłane z mojego iPhone'a", "Gdzie?"),
    ("> talk to a person\n> please\nWhere is A-1015?", "Where is A-1015?"),
    ("On Mon, Shop <o@s.example> wrote:\n> Which order?\n\nA-1015, thanks", "A-1015, thanks"),
    ("Line one\n\n\n\n\nLine two", "Line one\n\nLine two"),
    ("I wrote to you on Monday: where is it?", "I wrote to you on Monday: where is it?"),
]


@pytest.mark.parametrize("text, kept", QUOTED)
def test_quoted_history_and_signatures_are_cut(text: str, kept: str) -> None:
    assert strip_quotes(text) == kept


@pytest.mark.parametrize("html, text", [
    ('<div>Where?</div><div class="gmail_quote"><div>On Mon wrote:</div>'
     "<blockquote>talk to a person</blockquote></div>", "Where?"),
    ("<p>Where?</p><blockquote type=cite><p>talk to a person</p></blockquote><p>Thanks</p>",
     "Where?\n\nThanks"),
    ('<p>See <a href="https://x.example/t?a=1">tracking</a></p>',
     "See tracking (https://x.example/t?a=1)"),
    ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),  # list items line by line
    ("<style>p{color:red}</style><p>Hi<br>there</p>", "Hi\nthere"),
    ("<p>a<img src=x>b<br/>c</p>", "ab\nc"),
])
def test_html_becomes_what_the_customer_wrote(html: str, text: str) -> None:
    assert html_to_text(html) == text


# Automatic mail

@pytest.mark.parametrize("headers, mail_from, kind", [
    ("Auto-Submitted: auto-replied", "a@example.com", AUTO_REPLY),
    ("Auto-Submitted: auto-generated; owner-email=x", "a@example.com", AUTO_REPLY),
    ("Auto-Submitted: no", "a@example.com", None),
    ("X-Autoreply: yes", "a@example.com", AUTO_REPLY),
    ("X-Autorespond: yes", "a@example.com", AUTO_REPLY),
    ("Precedence: bulk", "a@example.com", BULK),
    ("Precedence: junk", "a@example.com", BULK),
    ("Precedence: list", "a@example.com", BULK),
    ("List-Unsubscribe: <mailto:u@example.com>", "a@example.com", BULK),
    ("List-Id: <news.example.com>", "a@example.com", BULK),
    ("Subject: Out of Office: Re: your order", "a@example.com", AUTO_REPLY),
    ("Subject: Автоответ: заказ", "a@example.com", AUTO_REPLY),
    ("Subject: Where is my order", "", AUTO_REPLY),  # null sender, no report
    ("Subject: Where is my order", "<>", AUTO_REPLY),
    ("Subject: Where is my order", "a@example.com", None),
])
def test_automatic_mail_is_recognised(headers: str, mail_from: str, kind: str | None) -> None:
    parsed = parse(mail(f"From: a@example.com\n{headers}"), mail_from)
    assert parsed.automatic == kind
    assert parsed.text == ("Hello" if kind is None else "")


def report(report_type: str, returned_id: str, action: str = "failed") -> bytes:
    return mail(
        "From: MAILER-DAEMON@mx.example.com",
        "--b\r\nContent-Type: text/plain\r\n\r\nNot delivered\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; Olivia@Example.com\r\nAction: {action}\r\n"
        "Status: 5.1.1\r\n\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {returned_id}\r\n"
        "--b--\r\n",
        f'multipart/report; report-type={report_type}; boundary="b"',
    )


def test_a_bounce_of_our_mail_names_the_failed_recipient() -> None:
    parsed = parse(report("delivery-status", "<ob.1.2.rabc@shop.example>"), "")
    assert (parsed.automatic, parsed.failed_recipients) == (BOUNCE, ["olivia@example.com"])


def test_a_bounce_of_someone_elses_mail_marks_nothing() -> None:
    parsed = parse(report("delivery-status", "<x@elsewhere.example>"), "")
    assert (parsed.automatic, parsed.failed_recipients) == (BOUNCE, [])


def test_a_read_receipt_is_a_report_and_not_a_bounce() -> None:
    parsed = parse(mail("From: a@example.com", "--b\r\n\r\nread\r\n--b--\r\n",
                        'multipart/report; report-type=disposition-notification; boundary="b"'))
    assert (parsed.automatic, parsed.failed_recipients) == (REPORT, [])


# Whether From is authenticated (channels/email/authentication.py)

OURS = "mx.shop.example"
OLIVIA_FROM = "From: Olivia <olivia@example.com>"


def results(dmarc: str = "pass", header_from: str = "example.com", server: str = OURS) -> str:
    return (f"Authentication-Results: {server}; spf=pass smtp.mailfrom=example.com;\n"
            f" dkim=pass header.d=example.com; dmarc={dmarc} header.from={header_from}")


@pytest.mark.parametrize("headers, authenticated", [
    (results(), True),
    (results(server="MX.Shop.Example"), True),  # the id is compared without case
    (f"Authentication-Results: {OURS} 1; dmarc=pass header.from=example.com", True),
    (results(header_from="Olivia@Example.com"), True),  # some servers write the address
    # another server of the shop's, above ours (it handled the mail after ours): ours counts
    (f"Authentication-Results: relay.internal; none\n{results()}", True),
    ("", False),  # no verdict at all
    (results(dmarc="fail"), False),
    (results(dmarc="none"), False),  # the domain publishes no DMARC policy
    (results(dmarc="temperror"), False),
    (results(header_from="evil.example"), False),  # passed for another domain: not aligned
    (results(header_from="mail.example.com"), False),
    (f"Authentication-Results: {OURS}; spf=pass smtp.mailfrom=example.com; dkim=pass "
     "header.d=example.com", False),  # SPF and DKIM without DMARC prove no From
    (results(server="mx.evil.example"), False),  # someone else's verdict
    (results(server=OURS + ".evil.example"), False),
    # ours on top says fail; a "pass" with our id below it was written by the sender
    (f"{results(dmarc='fail')}\n{results()}", False),
    (f"Authentication-Results: {OURS}; none\n{results()}", False),
    (f"Authentication-Results: {OURS}; dmarc=pass header.from=example.com; dmarc=fail "
     "header.from=example.com", False),  # two verdicts in one header: both must pass
    (f"Authentication-Results: {OURS}; dmarc=pass (unclosed header.from=example.com\n"
     f"{results()}", False),  # ours unreadable: nothing below it is believed
    (f"Authentication-Results: {OURS}; dmarc=pass header.from=example.com (" + "(" * 5000
     + ")" * 5000 + ")", False),
], ids=lambda value: value if isinstance(value, bool) else None)
def test_from_counts_only_with_our_servers_aligned_dmarc_pass(
    headers: str, authenticated: bool
) -> None:
    raw = mail(f"{headers}\n{OLIVIA_FROM}" if headers else OLIVIA_FROM)
    parsed = parse_mail(raw, "mallory@evil.example", DOMAIN, OURS)
    assert parsed.sender == "olivia@example.com"
    assert parsed.authenticated is authenticated


def test_no_mail_is_authenticated_without_an_authserv_id_or_with_two_from_addresses() -> None:
    assert not parse_mail(mail(f"{results()}\n{OLIVIA_FROM}"), None, DOMAIN, "").authenticated
    both = mail(f"{results()}\nFrom: olivia@example.com, mallory@evil.example")
    assert not parse_mail(both, None, DOMAIN, OURS).authenticated
    # with two From headers the server may have judged the other one
    two = parse_mail(mail(f"{results()}\n{OLIVIA_FROM}\nFrom: mallory@evil.example"), None,
                     DOMAIN, OURS)
    assert two.sender == "olivia@example.com" and not two.authenticated


# Threads

def test_a_new_mail_starts_a_thread_of_its_own() -> None:
    thread = thread_of(message_id="<m1@c.example>", in_reply_to=[], references=[],
                       sender="olivia@example.com", domain=DOMAIN, fallback_id="h")
    assert thread.chat_id == chat_id_for("<m1@c.example>", "olivia@example.com")
    assert (thread.root, thread.references, thread.last) == (
        "<m1@c.example>", ["<m1@c.example>"], "<m1@c.example>")


def test_a_reply_belongs_to_the_root_of_its_references() -> None:
    thread = thread_of(message_id="<m3@c.example>", in_reply_to=["<m2@s.example>"],
                       references=["<m1@c.example>", "<m2@s.example>"],
                       sender="olivia@example.com", domain=DOMAIN, fallback_id="h")
    assert thread.chat_id == chat_id_for("<m1@c.example>", "olivia@example.com")
    assert thread.references == ["<m1@c.example>", "<m2@s.example>", "<m3@c.example>"]


def test_an_in_reply_to_a_bot_mail_finds_the_conversation_it_carries() -> None:
    chat_id = chat_id_for("<root@c.example>", "olivia@example.com")
    bot_id = bot_message_id(chat_id, DOMAIN, 7, "2026-03-02T10:00:00.123456+00:00")
    assert chat_id_in_bot_id(bot_id, DOMAIN) == chat_id
    assert chat_id_in_bot_id(bot_id, "other.example") is None
    thread = thread_of(message_id="<m9@c.example>", in_reply_to=[bot_id], references=[],
                       sender="Olivia@Example.com", domain=DOMAIN, fallback_id="h")
    assert (thread.chat_id, thread.references[0]) == (chat_id, "<root@c.example>")
    stranger = thread_of(message_id="<m9@x.example>", in_reply_to=[bot_id], references=[],
                         sender="someone@x.example", domain=DOMAIN, fallback_id="h")
    assert stranger.chat_id != chat_id


def test_unauthenticated_mail_never_continues_the_authenticated_conversation() -> None:
    """Whoever writes Olivia's From without authentication, even as a reply to the bot's mail
    in her thread, is in a conversation of their own (with their own replies threaded)."""
    chat_id = chat_id_for("<root@c.example>", "olivia@example.com")
    bot_id = bot_message_id(chat_id, DOMAIN, 7, "2026-03-02T10:00:00+00:00")
    forged = thread_of(message_id="<f1@evil.example>", in_reply_to=[bot_id],
                       references=["<root@c.example>", bot_id], sender="olivia@example.com",
                       domain=DOMAIN, fallback_id="h", authenticated=False)
    assert forged.chat_id != chat_id and forged.root == "<root@c.example>"
    forged_bot_id = bot_message_id(forged.chat_id, DOMAIN, 8, "2026-03-02T10:01:00+00:00")
    again = thread_of(message_id="<f2@evil.example>", in_reply_to=[forged_bot_id],
                      references=[], sender="olivia@example.com", domain=DOMAIN,
                      fallback_id="h", authenticated=False)
    assert again.chat_id == forged.chat_id
    olivia = thread_of(message_id="<m2@c.example>", in_reply_to=[forged_bot_id], references=[],
                       sender="olivia@example.com", domain=DOMAIN, fallback_id="h")
    assert olivia.chat_id not in (forged.chat_id, chat_id)  # hers again, apart from theirs


def test_a_bot_message_id_is_the_same_on_every_retry() -> None:
    chat_id = chat_id_for("<r@c.example>", "a@example.com")
    assert bot_message_id(chat_id, DOMAIN, 7, "2026-03-02T10:00:00+00:00") == \
        bot_message_id(chat_id, DOMAIN, 7, "2026-03-02T10:00:00")
    assert bot_message_id(chat_id, DOMAIN, 7, "2026-03-02T10:00:00") != \
        bot_message_id(chat_id, DOMAIN, 8, "2026-03-02T10:00:00")


def test_long_threads_keep_the_root_and_the_latest_references() -> None:
    references = [f"<m{i}@c.example>" for i in range(50)]
    thread = thread_of(message_id="<new@c.example>", in_reply_to=[], references=references,
                       sender="a@example.com", domain=DOMAIN, fallback_id="h")
    assert len(thread.references) == MAX_REFERENCES
    assert thread.references[0] == "<m0@c.example>" and thread.references[-1] == "<new@c.example>"


def test_message_ids_are_read_leniently() -> None:
    assert message_ids("<a@x> <b@x>\r\n <a@x>") == ["<a@x>", "<b@x>"]
    assert message_ids("a@x") == ["<a@x>"]
    assert message_ids(None) == [] and message_ids("garbage") == []
    assert len(chat_id_for("<" + "x" * 5000 + "@y>", "a@example.com")) < 200


# Options

BUTTONS = [Button("Another order", "intent:order_status"), Button("Talk to a person", "handoff")]


@pytest.mark.parametrize("answer, payload", [
    ("2", "handoff"), ("2.", "handoff"), (" option 2 ", "handoff"), ("(1)", "intent:order_status"),
    ("#2", "handoff"), ("opcja 2", "handoff"), ("вариант 1", "intent:order_status"),
    ("2\n\nThanks!", "handoff"), ("talk to a person", "handoff"),
    ("2. Talk to a person", "handoff"),
    ("3", None), ("0", None), ("2 boxes arrived broken", None), ("", None),
    ("2\n\n" + "I have a long story to tell about this order " * 2, None),
])
def test_a_short_answer_picks_an_option(answer: str, payload: str | None) -> None:
    chosen = chosen_button(answer, BUTTONS)
    assert (chosen.payload if chosen else None) == payload


def test_options_are_numbered() -> None:
    assert numbered(BUTTONS) == ["1. Another order", "2. Talk to a person"]
    assert chosen_button("1", []) is None


# Composing

PARTS = MailParts(address="orders@shop.example", shop_name="Demo <Shop>",
                  message_id="<ob.1.2@shop.example>", options_hint="Reply with a number:",
                  default_subject="Your order", stranger_subject="Your message to Demo Shop")


def delivery(text: str, context: dict[str, object], *buttons: Button,
             sender: str = "bot", author: str | None = None) -> Delivery:
    outbound = Outbound(ConversationKey("email", "c"), text, tuple(buttons), sender, author)
    return Delivery(1, 1, outbound, "2026-03-02T10:00:00+00:00", dict(context))


REPLY_CONTEXT = {"to": "olivia@example.com", "name": "Olivia", "subject": "Order",
                 "root": "<m1@c>", "references": ["<m1@c>", "<m2@c>"], "last": "<m2@c>"}


def test_a_reply_is_threaded_and_marked_automatic() -> None:
    message = compose(delivery("Hi", REPLY_CONTEXT), PARTS)
    assert message["Subject"] == "Re: Order"
    assert message["In-Reply-To"] == "<m2@c>" and message["References"] == "<m1@c> <m2@c>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Message-ID"] == "<ob.1.2@shop.example>"


def test_html_gets_everything_escaped_and_links_after_escaping() -> None:
    text = 'Order <script>alert("x")</script> & track: https://t.example/a?b=1&c=2.'
    message = compose(delivery(text, REPLY_CONTEXT, Button("<b>bold</b>", "p")), PARTS)
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bold" not in html
    assert '<a href="https://t.example/a?b=1&amp;c=2">https://t.example/a?b=1&amp;c=2</a>.' in html
    assert "Demo &lt;Shop&gt;" in html
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and "Reply with a number:\n1. <b>bold</b>" in plain.get_content()


def test_the_first_mail_of_a_proactive_thread_has_no_parent() -> None:
    context = {"to": "n@example.org", "subject": "Your order", "root": PARTS.message_id,
               "references": [], "last": None, "proactive": True}
    message = compose(delivery("Thanks for your order", context), PARTS)
    assert message["Subject"] == "Your order" and message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] is None and message["References"] is None


def test_an_operators_answer_is_a_persons_mail_signed_with_their_name() -> None:
    message = compose(delivery("Hello", REPLY_CONTEXT, sender="operator", author="Kate"), PARTS)
    assert message["Auto-Submitted"] is None
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content().endswith("-- \nKate\nDemo <Shop>\n")


def test_an_unauthenticated_sender_gets_the_fixed_subject_and_nothing_of_theirs() -> None:
    context = {**REPLY_CONTEXT, "name": "", "subject": "", "authenticated": False}
    message = compose(delivery("Please tell us the postcode", context), PARTS)
    assert message["Subject"] == "Your message to Demo Shop"
    assert message["To"] == "olivia@example.com"
    assert message["In-Reply-To"] == "<m2@c>" and message["References"] == "<m1@c> <m2@c>"


def test_header_injection_through_the_subject_is_impossible() -> None:
    context = {**REPLY_CONTEXT, "subject": "Order\r\nBcc: victim@example.com"}
    message = compose(delivery("Hi", context), PARTS)
    assert message["Bcc"] is None and "\n" not in message["Subject"]


def test_a_conversation_without_a_recipient_cannot_be_sent() -> None:
    with pytest.raises(UnsendableReply):
        compose(delivery("Hi", {}), PARTS)


# The relay's answers

@pytest.mark.parametrize("code, permanent", [(421, False), (451, False), (452, False),
                                             (550, True), (552, True), (554, True)])
def test_relay_answers_become_retries_or_give_ups(code: int, permanent: bool) -> None:
    failed = failure(code, "5.1.1 <olivia@example.com>: User unknown", "RCPT")
    assert failed.permanent is permanent
    assert "olivia@example.com" not in str(failed) and str(code) in str(failed)
