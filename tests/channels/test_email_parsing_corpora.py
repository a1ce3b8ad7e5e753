"""Other projects' reply corpora run whole through parse_mail: the customer's new text, exactly.

tests/fixtures/mail/replies/<project>/cases.json holds each project's replies (inline, or a
file beside it) with the text we expect: what the writer added, nothing quoted, no signature
(README.md there says where they come from and where our expectation differs from theirs).
Run `python -m tests.channels.test_email_parsing_corpora` to see the rates and each miss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from channels.email.parsing import parse_mail

REPLIES = Path(__file__).parent.parent / "fixtures" / "mail" / "replies"
CORPORA = ["talon", "email_reply_parser", "zapier_email_reply_parser", "blind"]
TARGET = 0.95
_CONTENT_TYPES = {"text": "text/plain", "html": "text/html"}


@dataclass(frozen=True)
class Miss:
    name: str
    expected: str
    got: str


def raw_mail(case: dict[str, str], folder: Path) -> bytes:
    """The case as the listener would receive it: an .eml as it is, a body as a reply."""
    body = (folder / case["file"]).read_bytes() if "file" in case else case["input"].encode()
    if case["type"] == "eml":
        return body
    head = (
        "From: Customer <customer@example.com>\r\nTo: orders@shop.example\r\n"
        "Subject: Re: your order\r\nMessage-ID: <case@example.com>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {_CONTENT_TYPES[case['type']]}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode() + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def run_corpus(project: str) -> tuple[int, list[Miss]]:
    folder = REPLIES / project
    cases = json.loads((folder / "cases.json").read_text(encoding="utf-8"))
    misses = []
    for case in cases:
        text = parse_mail(raw_mail(case, folder), "customer@example.com", "shop.example").text
        if text != case["expected"]:
            misses.append(Miss(case["name"], case["expected"], text))
    return len(cases), misses


@pytest.mark.parametrize("project", CORPORA)
def test_replies_of_a_whole_corpus_give_exactly_the_new_text(project: str) -> None:
    total, misses = run_corpus(project)
    rate = (total - len(misses)) / total
    assert rate >= TARGET, f"{project}: {rate:.1%}; missed {[miss.name for miss in misses]}"


if __name__ == "__main__":
    for name in CORPORA:
        count, missed = run_corpus(name)
        print(f"{name}: {count - len(missed)}/{count} = {(count - len(missed)) / count:.1%}")
        for miss in missed:
            print(f"  MISS {miss.name}\n    expected {miss.expected[:300]!r}\n"
                  f"    got      {miss.got[:300]!r}")
