"""Properties of cutting the quoted history, over replies hypothesis builds from the pieces
clients write (attributions in many languages, header blocks, signatures, quotes, wrapped
links): it never raises, never invents words, drops every quote line, and leaves a text with
none of those pieces as it was. (tests/security/test_fuzz_email.py fuzzes parse_mail with
broken MIME; here the pieces are well-formed and the question is what is kept.)
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.html_text import html_to_text
from channels.email.parsing import MAX_TEXT_CHARS, UnreadableMail, parse_mail
from channels.email.quoting import strip_quotes

EXAMPLES = int(os.environ.get("ORDERBOT_FUZZ_EXAMPLES", "300"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

PIECES = [
    "On Mon, 2 Mar 2026 at 10:00, Shop <orders@shop.example> wrote:",
    "On Mon, 2 Mar 2026 at 10:00, Shop <", "orders@shop.example> wrote:", "wrote:",
    "W dniu 2.03.2026 o 10:00, Sklep pisze:", "2 марта 2026 г., Магазин написал(а):",
    "Den 2. mar. 2026 skrev Shop <orders@shop.example>:", "---- Shop wrote ----",
    "-----Original Message-----", "________________________________",
    "From: Shop <orders@shop.example>", "Sent: Monday", "Od: Sklep", "Wysłano: poniedziałek",
    "Temat: Zamówienie", "От: Магазин", "Date: Mon, 2 Mar 2026", "To: Olivia", "Subject: x",
    "> quoted", ">", "> > nested", ">>> banner <<<", "(http://example.com/x)", "-- ",
    "Sent from my iPhone", "Wysłane z iPhone'a", "Отправлено с iPhone", "-Olivia",
    "Sent from my desk, is much easier", "", " ", "reply On Mon, 2 Mar 2026, Shop wrote:",
]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyząęłóśżА-Яя0123456789 ,.?!:-",
                min_size=1, max_size=40)
LINES = st.lists(st.one_of(st.sampled_from(PIECES), WORDS), max_size=30)
BANNER = re.compile(r"^>+\s.*<{2,}$")  # ">>> http://example.com <<<" is text, not a quote


@PROPERTY
@given(LINES)
def test_cutting_never_invents_words_and_drops_every_quote(lines: list[str]) -> None:
    text = "\n".join(lines)
    kept = strip_quotes(text)
    assert len(kept) <= len(text)
    for line in kept.split("\n"):
        assert not line.strip().startswith(">") or BANNER.match(line.strip())
        assert line in text  # every kept line is (a part of) a line the sender wrote


PLAIN_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ,.?!", min_size=1,
                      max_size=60).filter(lambda line: line.strip() == line and line.strip())


@PROPERTY
@given(st.lists(PLAIN_WORDS, min_size=1, max_size=20))
def test_a_text_without_reply_pieces_is_kept_whole(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert strip_quotes(text) == text


MARKUP = st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<br>", "<blockquote>", "</blockquote>",
    '<div class="gmail_quote">', '<blockquote class="gmail_quote">', '<div id="divRplyFwdMsg">',
    '<div id="appendonsend"></div>', '<p class="MsoNormal">', "<o:p>&nbsp;</o:p>",
    '<div class="yahoo_quoted">', '<blockquote type="cite">', "<hr>", "<b>From:</b> Shop",
    "On Mon, 2 Mar 2026, Shop wrote:", "<ul><li>", "</li></ul>", "<a href='https://x.example'>",
    "</a>", "\x1e", "\x1d", "\x1c",
])


@PROPERTY
@given(st.lists(st.one_of(MARKUP, WORDS), max_size=40))
def test_html_replies_always_give_bounded_text(pieces: list[str]) -> None:
    html = "".join(pieces)
    for quotes in (False, True):
        text = html_to_text(html, quotes=quotes)
        assert not re.search(r"[\x1c-\x1e]", text)  # no marker of the renderer leaks out
    raw = ("From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html)
    try:
        parsed = parse_mail(raw.encode("utf-8", "surrogatepass"), "a@example.com", "x.example")
    except UnreadableMail:
        return
    assert len(parsed.text) <= MAX_TEXT_CHARS
    assert parsed.language in (None, "en", "pl", "ru")
    assert (parsed.language is None) == bool(parsed.text)
