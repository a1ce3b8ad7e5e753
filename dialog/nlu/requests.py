"""Several requests in one message: "cancel A-1001 and where is A-1002".

The message is cut at sentence ends and at joining words (and/also/plus/then, i/oraz/a także/
a potem, и/а также/ещё/потом), and each part is understood on its own. The whole message's
Understanding gets `requests` (one per request, in the order written, each with its own
entities) only when two or more parts are requests the bot acts on, each confident, and
different from each other (another intent, or the same intent for another order).

Joining words also join ordinary sentences ("the kettle came and it does not work", "zamówiłem
buty i nie przyszły", "заказ ещё не пришёл"), so a split has to agree with the message read
whole: the whole message's likeliest intent must be its first request's (a message with two
requests is labelled by its first, dialog/nlu/data), a part needs two tokens at least, a part
that names no order of its own must be clear on its own (and is no request when it carries an
e-mail or postcode: that is a proof), and a refund asked with a return or a cancellation of
the same order is the same request.
A message without a separator, or whose whole reading is no request the bot acts on, is not
cut at all: it costs one classification.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Protocol

from dialog.nlu.classifier import MAX_UNDERSTOOD_CHARS, Understanding
from dialog.nlu.entities import Entities

# Intents that ask the bot to do something (small talk, yes/no and out_of_scope do not).
ACTIONABLE = frozenset({
    "order_status", "cancel_order", "change_delivery", "return_order", "product_availability",
    "payment", "human",
})
# Asked together about one order, these are one request (a refund with the return/cancel).
_SAME_REQUEST = (frozenset({"return_order", "payment"}), frozenset({"cancel_order", "payment"}))
MAX_PARTS = 6
_MIN_TOKENS = 2

_JOINERS = (
    # English
    r"and\s+also", r"and\s+then", r"and", r"also", r"plus", r"then",
    # Polish (folded spelling too: customers often type without diacritics)
    r"a\s+tak[zż]e", r"a\s+potem", r"a\s+jeszcze", r"i\s+jeszcze", r"oraz",
    r"(?-i:i)",  # lower case only: the English "I" starts a sentence, it joins none
    # Russian
    r"а\s+также", r"а\s+ещ[её]", r"и\s+ещ[её]", r"а\s+потом", r"и\s+потом", r"ещ[её]",
    r"потом", r"и",
)
_SEPARATOR = re.compile(
    # a sentence end is followed by a space ("12.50", "jan.kowalski@example.com" are none)
    r"[.!?;]+(?:\s+|$)|\n\s*|,?\s+(?:" + "|".join(_JOINERS) + r")\s+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+")


class Understands(Protocol):
    threshold: float

    def understand(self, text: str) -> Understanding: ...


def understand_requests(model: Understands, text: str) -> Understanding:
    """The message understood whole, with `requests` filled when it holds several."""
    whole = model.understand(text)
    if whole.intent not in ACTIONABLE:  # the first request must carry the whole's intent
        return whole
    parts = _parts(text[:MAX_UNDERSTOOD_CHARS])  # what the model reads of a long message
    if len(parts) < 2:
        return whole
    understood = [model.understand(part) for part in parts]
    requests = _requests(model.threshold, parts, understood, whole.entities)
    if len(requests) < 2 or requests[0].intent != whole.intent:
        return whole
    return replace(whole, requests=tuple(requests))


def _parts(text: str) -> list[str]:
    """The message cut at its separators; [] when it has none (then nothing more is read)."""
    parts = [part.strip(" ,") for part in _SEPARATOR.split(text.strip())]
    parts = [part for part in parts if part]
    return parts[:MAX_PARTS] if len(parts) > 1 else []


def _requests(
    threshold: float, parts: list[str], understood: list[Understanding], whole: Entities
) -> list[Understanding]:
    """The parts that are requests of their own, each with its entities."""
    kept: list[Understanding] = []
    numbers: tuple[str, ...] = ()  # the latest order numbers written, for "... and cancel it"
    for part, understanding in zip(parts, understood, strict=True):
        own = understanding.entities.order_numbers
        numbers = own or numbers
        if (
            understanding.intent not in ACTIONABLE
            or understanding.confidence < threshold
            or len(_TOKEN.findall(part)) < _MIN_TOKENS
            or not own and _is_context(understanding, threshold)
        ):
            continue
        entities = Entities(
            order_numbers=own or numbers,
            emails=understanding.entities.emails or whole.emails,
            postcodes=understanding.entities.postcodes or whole.postcodes,
        )
        request = replace(understanding, entities=entities)
        if not any(_same(request, earlier) for earlier in kept):
            kept.append(request)
    return kept


def _is_context(understanding: Understanding, threshold: float) -> bool:
    """A part naming no order of its own is a request only when it is clear on its own:
    "postcode 99-000" or "my email is ..." is a proof, and "I write from my other address"
    tells where the customer writes from, not that a delivery address should change."""
    entities = understanding.entities
    return bool(entities.emails or entities.postcodes) or (
        understanding.confidence < (1 + threshold) / 2
    )


def _same(one: Understanding, other: Understanding) -> bool:
    if one.entities.order_numbers != other.entities.order_numbers:
        return False
    return one.intent == other.intent or frozenset({one.intent, other.intent}) in _SAME_REQUEST
