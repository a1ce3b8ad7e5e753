"""What the customer wrote, without the quoted history and the signature below it.

Cut at the first reply header (an attribution like "On ... wrote:" in any of the languages in
quote_headers.py, also wrapped over up to five lines; a separator like "-----Original
Message-----"; Outlook's "From: ... Sent: ..." block), or at a signature (signatures.py).
Lines that start with ">" are quotes and dropped one by one, with the attribution above them
and the blank lines below, so that an answer written below or between quotes is kept.

A forward, or a mail that starts with a header block, keeps the text below the block: the
customer sent us that text, and there is nothing of theirs above it.
"""

from __future__ import annotations

import re

from channels.email.quote_headers import (
    ATTRIBUTION,
    ONE_LINE_BLOCK,
    SEPARATOR,
    TRAILING_ATTRIBUTION,
    WEAK_ATTRIBUTION,
    field_kind,
)
from channels.email.signatures import is_signature_line, without_sign_off

MAX_ATTRIBUTION_LINES = 5  # Polymail: "On <date> <name>", "", "<", "mailto:...", "> wrote:"
_HEADER_BLOCK_LINES = 12
_DECORATION = re.compile(r"^[\s\-_=*]*$")
_BARE_LINK = re.compile(r"^\(?https?://\S+\)?\s*>?$")
_NOT_A_QUOTE = re.compile(r"^>+\s.*<{2,}$")  # ">>> http://example.com <<<": a banner
_DIGIT = re.compile(r"\d")
# A wrapped attribution's later lines start with its address ("<", "mailto:") or verb.
_CAN_START = re.compile(r"^(?!mailto:)[\w\-]", re.IGNORECASE)


def strip_quotes(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    kept: list[str] = []
    index = 0
    after_quote = False  # a quote was just dropped: the blank lines below it go too
    open_link = False  # the last quote line opened "(http..." that the next line may close
    while index < len(lines):
        stripped = lines[index].strip()
        if _is_quote(stripped):
            after_quote, open_link = True, "(http" in stripped and ")" not in \
                stripped[stripped.rfind("(http"):]
            index += 1
            continue
        if after_quote and (not stripped or _wrapped_link(stripped, open_link, lines, index)):
            index += 1
            continue
        after_quote = open_link = False
        if not any(line.strip() for line in kept):
            skipped = _forward_header(lines, index)
            if skipped:
                index += skipped
                continue
        if is_signature_line(stripped) or SEPARATOR.match(stripped) or \
                _header_block(lines, index):
            break
        shared = TRAILING_ATTRIBUTION.match(stripped)
        if shared:  # "reply On <date>, <name> wrote:"
            kept.append(shared.group("reply"))
        span = 1 if shared else _attribution_span(lines, index)
        if span:
            if _quote_follows(lines, index + span):
                index += span  # an inline quote: the answer below it is kept
                after_quote = True
                continue
            break
        kept.append(lines[index])
        index += 1
    return _tidy(without_sign_off(kept))


def _is_quote(stripped: str) -> bool:
    return stripped.startswith(">") and not _NOT_A_QUOTE.match(stripped)


def _wrapped_link(stripped: str, open_link: bool, lines: list[str], index: int) -> bool:
    """A link of a quote line, wrapped onto a line without ">" by the client."""
    if not (open_link or _BARE_LINK.match(stripped)):
        return False
    return _quote_follows(lines, index + 1) and " " not in stripped.strip("() >")


def _quote_follows(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        if line.strip():
            return _is_quote(line.strip())
    return False


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines the attribution starting here spans, or 0. A wrapped one must not
    begin on the customer's last line: no later line of it may start one itself."""
    span = _raw_span(lines, index)
    if span > 1 and any(_CAN_START.match(lines[later].strip())
                        and not lines[later - 1].rstrip().endswith("<")
                        and _raw_span(lines, later)
                        for later in range(index + 1, index + span)):
        return 0
    return span


def _raw_span(lines: list[str], index: int) -> int:
    first = lines[index].strip()
    if not first:
        return 0
    if ATTRIBUTION.match(first):
        return 1
    if WEAK_ATTRIBUTION.match(first) and _quote_follows(lines, index + 1):
        return 1
    if len(first) < 10 or not _DIGIT.search(first):  # a wrapped one starts with its date
        return 0
    pieces = [first]
    weak = 0  # "<date> <name> <address>" over lines, if no full attribution follows
    for span in range(2, min(MAX_ATTRIBUTION_LINES, len(lines) - index) + 1):
        piece = lines[index + span - 1].strip()
        if not piece:
            continue
        if _is_quote(piece) or is_signature_line(piece):
            break  # the customer's line above a quote is not part of its attribution
        pieces.append(piece)
        joined = _join(pieces)
        if ATTRIBUTION.match(joined):
            return span
        if not weak and WEAK_ATTRIBUTION.match(joined) and _quote_follows(lines, index + span):
            weak = span
    return weak


def _join(pieces: list[str]) -> str:
    """Wrapped lines as one; Gmail wraps right after "<" of the address."""
    joined = pieces[0]
    for piece in pieces[1:]:
        joined += piece if joined.endswith("<") or piece.startswith(">") else " " + piece
    return joined


def _header_block(lines: list[str], index: int) -> bool:
    """Outlook's "From: / Sent: / To: / Subject:" block (in any order, any language): two
    kinds of field, one of them the date or the subject (or an address in From), so that
    "From: Warsaw / To: Krakow" in a customer's text is not one."""
    line = lines[index]
    if ONE_LINE_BLOCK.match(line):
        return True
    first = field_kind(line)
    if first is None:
        return False
    kinds = {first}
    evidence = first in ("sent", "subject") or (first == "from" and "@" in line)
    for following in lines[index + 1:index + 5]:
        kind = field_kind(following)
        if kind is None:
            continue
        kinds.add(kind)
        evidence = evidence or kind in ("sent", "subject") or (kind == "from" and "@" in following)
    return len(kinds) >= 2 and evidence


def _forward_header(lines: list[str], index: int) -> int:
    """At the top of the mail: how many lines of a forward's separator and header block to
    pass over (the text below them is what the customer sent), or 0."""
    stripped = lines[index].strip()
    if SEPARATOR.match(stripped) or _DECORATION.match(stripped) and stripped:
        return 1
    if not _header_block(lines, index):
        return 0
    end = index
    while end < len(lines) and end - index < _HEADER_BLOCK_LINES and lines[end].strip():
        end += 1
    return end - index


def _tidy(kept: list[str]) -> str:
    while kept and _DECORATION.match(kept[-1]):  # the line Outlook draws above its block
        kept.pop()
    # The kept lines are right-stripped already (a pattern for trailing blanks would rescan
    # every long run of spaces inside a line: quadratic).
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
