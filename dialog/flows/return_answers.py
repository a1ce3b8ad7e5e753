"""What a customer's free text means while a return is being asked for: which lines ("2 mugs
and the lamp", "all"), how many, how the parcel travels, or a change of subject. Every button
of the return flow has such a free-text twin."""

from __future__ import annotations

import re
from typing import Any

from dialog.flows.base import Turn
from orders.returns import METHODS, Eligibility, ReturnLine

# An answer the classifier is this sure belongs to another subject is a change of subject.
OTHER_SUBJECT_CONFIDENCE = 0.6
_NOT_A_SUBJECT = frozenset({"return_order", "out_of_scope", "goodbye", "greet", "thanks",
                            "affirm", "deny"})
ALL = re.compile(r"^\s*(all|everything|all items|wszystk\w*|całe|все|вс[её]|целиком)\W*$",
                  re.IGNORECASE)
DONE = re.compile(
    r"^\s*(continue|done|next|no|nope|that'?s (it|all)|nothing( else)?|dalej|gotowe|nie|"
    r"to wszystko|nic( więcej)?|дальше|готово|нет|это вс[её]|больше ничего)\W*$", re.IGNORECASE)
_SEPARATORS = re.compile(r",|;|\+|&|\band\b|\boraz\b|\bi\b|\bи\b", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "jeden": 1, "jedna": 1, "jedno": 1, "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4, "pięć": 5,
    "один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
}
_FILLER = frozenset({"the", "and", "item", "items", "want", "return", "please", "back", "send",
                     "pcs", "szt", "шт"})
_METHOD_WORDS = {
    "courier_pickup": ("courier", "pickup", "pick up", "collect", "kurier", "odbi", "курьер",
                       "заб"),
    "drop_off": ("drop", "point", "post", "punkt", "paczkomat", "nadam", "пункт", "почт",
                 "сам"),
}


def other_subject(turn: Turn) -> bool:
    understanding = turn.understanding
    return understanding is not None and (
        understanding.confidence >= OTHER_SUBJECT_CONFIDENCE
        and understanding.intent not in _NOT_A_SUBJECT
    )


def chosen_quantities(slots: dict[str, Any]) -> dict[int, int]:
    return {int(position): int(count) for position, count in (slots.get("chosen") or {}).items()}


def offered(eligibility: Eligibility, chosen: dict[int, int]) -> list[ReturnLine]:
    """The lines the customer may still pick, in order: each has a button and a number."""
    return [line for line in eligibility.returnable_lines if line.position not in chosen]


def count_in(text: str) -> int | None:
    word = text.strip().lower().rstrip(".!")
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _words(text: str) -> list[str]:
    return [word for word in re.findall(r"[^\W\d_]+", text.lower())
            if len(word) >= 3 and word not in _FILLER]


def _same_word(said: str, name_word: str) -> bool:
    """"mugs" is "mug", "keyboards" is "keyboard" (a plural or a case ending)."""
    shorter, longer = sorted((said, name_word), key=len)
    return longer.startswith(shorter) and len(longer) - len(shorter) <= 3


def parse_lines(text: str, lines: tuple[ReturnLine, ...]) -> dict[int, int | None]:
    """{line position: quantity, or None for "all of it"} from "2 mugs and the lamp"."""
    wanted: dict[int, int | None] = {}
    for segment in _SEPARATORS.split(text):
        said = _words(segment)
        if not said:
            continue
        scores = {
            line.position: sum(any(_same_word(word, own) for own in _words(line.name))
                               for word in said)
            for line in lines
        }
        best = max(scores.values(), default=0)
        matches = [position for position, score in scores.items() if score == best]
        if best == 0 or len(matches) != 1:
            return {}
        digits = re.search(r"\d+", segment)
        count = int(digits.group()) if digits else next(
            (_NUMBER_WORDS[word] for word in segment.lower().split() if word in _NUMBER_WORDS),
            None,
        )
        wanted[matches[0]] = count
    return wanted


def method_in(text: str) -> str | None:
    lowered = text.strip().lower()
    if lowered in ("1", "2"):
        return METHODS[int(lowered) - 1]
    found = [method for method, words in _METHOD_WORDS.items()
             if any(word in lowered for word in words)]
    return found[0] if len(found) == 1 else None


def reask(turn: Turn, key: str, *buttons: Any, **params: object) -> bool:
    """Not an answer: a change of subject goes back to the manager, anything else is asked
    again politely."""
    if other_subject(turn):
        return False
    turn.say(key, *buttons, **params)
    return True
