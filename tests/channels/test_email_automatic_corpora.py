"""Whole public corpora through parse_mail: bounces and auto-replies are never answered, people
always are, also when the envelope sender is not empty (a forwarding relay, or MAILER-DAEMON
as the return path).

Corpora (tests/fixtures/mail/README.md says where each comes from and under which licence):
- bounces/flufl: Mailman's bounce corpus shipped with flufl.bounce 6.0.0 (117 mails);
- bounces/sisimai: sisimai's set-of-emails (maildir/bsd and maildir/not: 629 bounces,
  auto-replies and abuse reports, and 3 people's mails);
- human/written: 41 mails of customers in en/pl/ru written for this test, several with the
  words of a bounce or an auto-reply in their subject ("Delivery failure - parcel never
  arrived", "Out of office policy question", "Не доставлено");
- replies/ (shared with the reply-parsing corpora test): the replies of mailgun/talon and of
  github/email_reply_parser and zapier's port (bodies without headers get a person's).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.email.parsing import parse_mail

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
DOMAIN = "shop.example"
FORWARDER = "SRS0=x9Kq=NB=example.org=orders@forwarder.example"  # an SRS-rewriting relay
POSTMASTER = "postmaster@relay.example"
TARGET = 0.97

# In the bounce corpora, but a person's mail: answered.
PEOPLE_IN_BOUNCE_CORPORA = {
    "groupwise_03.txt",  # "RE: Vuille - (PO28169)", a reply from Outlook 2003
    "is-not-bounce-01.eml", "is-not-bounce-02.eml",  # sisimai's own "not a bounce" samples
    "lhost-sendmail-14.eml",  # "Fwd: Returned mail": "Forward the message." above a bounce
}


def _bounces(corpus: str) -> list[Path]:
    return sorted(path for path in (FIXTURES / "bounces" / corpus).iterdir()
                  if path.suffix in (".txt", ".eml") and path.name not in PEOPLE_IN_BOUNCE_CORPORA)


def _people_in_bounce_corpora() -> list[tuple[str, bytes]]:
    found = [path for corpus in ("flufl", "sisimai")
             for path in (FIXTURES / "bounces" / corpus).iterdir()
             if path.name in PEOPLE_IN_BOUNCE_CORPORA]
    return [(path.name, path.read_bytes()) for path in sorted(found)]


def _with_headers(name: str, body: str, subtype: str = "plain") -> bytes:
    head = (f"From: Jordan Miller <jordan.miller@example.com>\r\nTo: orders@{DOMAIN}\r\n"
            f"Subject: Re: your order\r\nMessage-ID: <{name}@example.com>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode() + body.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _people() -> dict[str, list[tuple[str, bytes]]]:
    human = FIXTURES / "human"
    replies: list[tuple[str, bytes]] = []
    corpora = FIXTURES / "replies"  # shared with tests/channels/test_email_parsing_corpora.py
    for path in sorted((corpora / "talon").rglob("*")):
        if path.suffix == ".eml":
            replies.append((f"talon/{path.name}", path.read_bytes()))
        elif path.suffix == ".html":
            replies.append((f"talon/{path.name}", _with_headers(
                path.stem, path.read_text("utf-8", "replace"), "html")))
    for path in sorted((corpora / "blind" / "emails").glob("*.eml")):
        replies.append((f"blind/{path.name}", path.read_bytes()))
    for port, folder in (("github", "email_reply_parser"), ("zapier", "zapier_email_reply_parser")):
        for path in sorted((corpora / folder / "emails").glob("*.txt")):
            replies.append((f"{port}/{path.name}", _with_headers(
                path.stem, path.read_text("utf-8", "replace"))))
    return {
        "written": [(path.name, path.read_bytes())
                    for path in sorted((human / "written").glob("*.eml"))],
        "replies": replies,
        "bounce corpora": _people_in_bounce_corpora(),
    }


def _refused(raw: bytes, mail_from: str) -> bool:
    return parse_mail(raw, mail_from, DOMAIN).automatic is not None


@pytest.mark.parametrize("mail_from", [FORWARDER, POSTMASTER])
@pytest.mark.parametrize("corpus, size", [("flufl", 116), ("sisimai", 629)])
def test_bounces_and_auto_replies_are_not_answered(corpus: str, size: int,
                                                   mail_from: str) -> None:
    paths = _bounces(corpus)
    missed = [path.name for path in paths if not _refused(path.read_bytes(), mail_from)]
    rate = 1 - len(missed) / len(paths)
    assert len(paths) == size  # the whole corpus, not a sample
    assert rate >= TARGET, f"{corpus}: {rate:.1%} refused; answered: {missed}"


@pytest.mark.parametrize("group", ["written", "replies", "bounce corpora"])
def test_people_are_always_answered(group: str) -> None:
    mails = _people()[group]
    assert len(mails) >= 3
    for forwarded in (False, True):
        verdicts = [(name, parse_mail(raw, FORWARDER if forwarded else _sender_of(raw), DOMAIN))
                    for name, raw in mails]
        refused = [(name, parsed.automatic_reason) for name, parsed in verdicts
                   if parsed.automatic is not None]
        assert refused == []


def _sender_of(raw: bytes) -> str:
    """The envelope sender a person's own mail server writes: their From address."""
    parsed = parse_mail(raw, None, DOMAIN)
    return parsed.sender or "someone@example.com"


def test_the_written_mails_have_text_for_the_dialog() -> None:
    for name, raw in _people()["written"]:
        assert parse_mail(raw, _sender_of(raw), DOMAIN).text, name
