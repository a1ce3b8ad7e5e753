"""What the customer wrote, without the quoted history and the signature below it.

Cut at the first reply header ("On ... wrote:", "W dniu ... pisze:", "... написал(а):",
Outlook's "-----Original Message-----" or its "From: ... Sent: ..." block, a forwarded
message), at a signature separator ("-- ") or a phone's "Sent from my ..." line. Lines that
start with ">" are quotes and dropped one by one, so that an answer written below an inline
quote ("On ... wrote:" followed by "> ..." lines) is kept.
"""

from __future__ import annotations

import re

_HEADER_PATTERNS = [
    r"^on\b.{0,300}\bwrote:\s*$",  # Gmail, Apple Mail, Thunderbird (en)
    r"^w dniu\b.{0,300}\bpisze:\s*$",  # Thunderbird (pl)
    r"^.{0,300}\bnapisał(?:\(a\)|a)?:\s*$",  # Gmail (pl)
    r"^.{0,300}\bнаписал(?:\(а\)|а)?:\s*$",  # Gmail (ru)
    r"^.{0,300}\bпишет:\s*$",  # Thunderbird, Yandex (ru)
    r"^.{0,300}\b(?:schrieb|a écrit|escribió|ha scritto)\s*:\s*$",
    r"^.{0,200}\d.{0,200}<[^<>\s@]{1,64}@[^<>\s]{1,255}>\s*:\s*$",  # "<date>, Name <address>:"
]
_SEPARATOR_PATTERNS = [
    r"^-{2,}\s*(?:original message|forwarded message|wiadomość oryginalna|"
    r"oryginalna wiadomość|исходное сообщение|пересылаемое сообщение|"
    r"ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$",
    r"^-{5,}\s*(?:forwarded|przekazana|пересланное)\b.*$",
    r"^_{20,}\s*$",  # Outlook's line above its "From: ... Sent: ..." block
    r"^(?:sent from my|get outlook for|wysłane z (?:mojego|mojej|aplikacji)|"
    r"wysłano z (?:mojego|mojej)|отправлено с (?:моего|iphone|ipad|android)|"
    r"отправлено из)\b.*$",
]
_HEADER = re.compile("|".join(_HEADER_PATTERNS), re.IGNORECASE)
_SEPARATOR = re.compile("|".join(_SEPARATOR_PATTERNS), re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s*$")
_FROM_FIELD = re.compile(r"^\*?(?:from|od|от|von|de)\s*:\*?\s+\S", re.IGNORECASE)
_SENT_FIELD = re.compile(
    r"^\*?(?:sent|date|wysłano|wysłane|data|отправлено|дата|gesendet|envoyé)\s*:", re.IGNORECASE
)


def strip_quotes(text: str) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        stripped = line.strip()
        if stripped.startswith(">"):
            index += 1
            continue
        if _SIGNATURE.match(line) or _SEPARATOR.match(stripped) or _outlook_block(lines, index):
            break
        header_lines = _reply_header(lines, index)
        if header_lines:
            if _quote_follows(lines, index + header_lines):
                index += header_lines  # an inline quote: the answer below it is kept
                continue
            break
        kept.append(line)
        index += 1
    return _tidy("\n".join(kept))


def _reply_header(lines: list[str], index: int) -> int:
    """How many lines (1 or 2: clients wrap long ones) the reply header here spans, or 0."""
    first = lines[index].strip()
    if not first:
        return 0
    if _HEADER.match(first):
        return 1
    if index + 1 < len(lines):
        joined = f"{first} {lines[index + 1].strip()}"
        if len(first) > 20 and _HEADER.match(joined):
            return 2
    return 0


def _quote_follows(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        if line.strip():
            return line.strip().startswith(">")
    return False


def _outlook_block(lines: list[str], index: int) -> bool:
    """A "From: ..." line with a "Sent:"/"Date:" line right below it (Outlook's quote)."""
    if not _FROM_FIELD.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1:index + 4]]
    return any(_SENT_FIELD.match(line) for line in following)


def _tidy(text: str) -> str:
    # The kept lines are right-stripped already (a pattern for trailing blanks would rescan
    # every long run of spaces inside a line: quadratic).
    return re.sub(r"\n{3,}", "\n\n", text).strip()
