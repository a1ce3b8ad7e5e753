"""Regex extraction of order numbers, e-mails and postcodes.

Everything found is a *candidate*: the dialog checks order numbers against the shop and
asks when in doubt. A pure-digit token of 5 or 6 digits is both an order-number candidate
and a postcode candidate, because nothing in the text tells the two apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entities:
    order_numbers: tuple[str, ...]  # upper-cased, "#" stripped, e.g. "A-1001"
    emails: tuple[str, ...]  # lower-cased
    postcodes: tuple[str, ...]  # as written, e.g. "00-950", "SW1A 1AA", "101000"


@dataclass(frozen=True, slots=True)
class EntityScan:
    entities: Entities
    masked_text: str  # the text with every entity replaced by a placeholder token


ORDER_PLACEHOLDER = "<order>"
NUMBER_PLACEHOLDER = "<number>"
EMAIL_PLACEHOLDER = "<email>"
POSTCODE_PLACEHOLDER = "<postcode>"

# Parts bounded as RFC 5321 bounds them: unbounded, every start inside a long word rescanned
# the rest of it (quadratic: 0.1 s for 4,000 characters of one word).
_EMAIL = re.compile(r"[\w.%+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,24}",
                    re.IGNORECASE)
_PL_POSTCODE = re.compile(r"(?<![\w-])\d{2}-\d{3}(?![\w-])")
# Outward code (A9, A99, A9A, AA9, AA99, AA9A), optional space, inward code (9AA).
_UK_POSTCODE = re.compile(
    r"(?<![\w-])[a-z]{1,2}\d[a-z\d]?\s?\d[abd-hjlnp-uw-z]{2}(?![\w-])", re.IGNORECASE
)
# "A-1001", "a1001", "#A-1001", "ORD-2024-0042": letters, optional hyphen, 3+ digits.
# Cyrillic letters (\u0430-\u044f, \u0451) are accepted because on a Russian keyboard layout
# "A-1001" is easily typed with a Cyrillic "A" (see _HOMOGLYPHS).
_LETTERED_ORDER = re.compile(
    r"(?<![\w-])[#№]?([a-z\u0430-\u044f\u0451]{1,5}-?\d{3,}(?:-\d+)*)(?![\w-])", re.IGNORECASE
)
# "#1001", "№1001", "1001234": digits not glued to a date, decimal or phone-number fragment.
_DIGIT_ORDER = re.compile(r"(?<![\w./,:-])([#№]?)(\d{4,10})(?![\w/:-]|[.,]\d)")
_HYPHENLESS = re.compile(r"([A-Z]+)(\d+)")
# Cyrillic capitals that look like Latin ones, written as escapes because they are invisible
# in the source: A, B, E, K, M, H, O, P, C, T, Y, X.
_HOMOGLYPHS = str.maketrans(
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0423\u0425", "ABEKMHOPCTYX"
)


_NOTHING = Entities(order_numbers=(), emails=(), postcodes=())


def scan(text: str) -> EntityScan:
    """Find every entity in ``text`` and return them with the masked text."""
    if "@" not in text and not any(char.isdigit() for char in text):
        return EntityScan(entities=_NOTHING, masked_text=text)  # every pattern needs one
    spans: list[tuple[int, int, str]] = []  # (start, end, placeholder), non-overlapping
    # (position, value) pairs so that candidates come out in reading order
    emails: list[tuple[int, str]] = []
    postcodes: list[tuple[int, str]] = []
    orders: list[tuple[int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for match in _EMAIL.finditer(text):
        spans.append((match.start(), match.end(), EMAIL_PLACEHOLDER))
        emails.append((match.start(), match.group().lower()))
    for pattern in (_PL_POSTCODE, _UK_POSTCODE):
        for match in pattern.finditer(text):
            if free(match.start(), match.end()):
                spans.append((match.start(), match.end(), POSTCODE_PLACEHOLDER))
                postcodes.append((match.start(), match.group()))
    for match in _LETTERED_ORDER.finditer(text):
        if free(match.start(), match.end()):
            spans.append((match.start(), match.end(), ORDER_PLACEHOLDER))
            orders.extend((match.start(), c) for c in _order_candidates(match.group(1)))
    for match in _DIGIT_ORDER.finditer(text):
        if free(match.start(), match.end()):
            hashed = bool(match.group(1))
            spans.append(
                (match.start(), match.end(), ORDER_PLACEHOLDER if hashed else NUMBER_PLACEHOLDER)
            )
            digits = match.group(2)
            orders.append((match.start(), digits))
            if not hashed and len(digits) in (5, 6):
                postcodes.append((match.start(), digits))

    entities = Entities(
        order_numbers=_unique(orders), emails=_unique(emails), postcodes=_unique(postcodes)
    )
    return EntityScan(entities=entities, masked_text=_mask(text, spans))


def extract_entities(text: str) -> Entities:
    return scan(text).entities


def _order_candidates(token: str) -> list[str]:
    upper = token.upper().translate(_HOMOGLYPHS)
    hyphenless = _HYPHENLESS.fullmatch(upper)
    if hyphenless is None:
        return [upper]
    return [upper, f"{hyphenless.group(1)}-{hyphenless.group(2)}"]


def _mask(text: str, spans: list[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end, placeholder in sorted(spans):
        parts.extend((text[position:start], f" {placeholder} "))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _unique(found: list[tuple[int, str]]) -> tuple[str, ...]:
    # sorted() is stable, so the two candidates of one token keep their order
    return tuple(dict.fromkeys(value for _, value in sorted(found, key=lambda pair: pair[0])))
