"""Negation scope: "not right" must differ from "right", "nie działa" from "działa".

The words after a negator, up to the next punctuation and at most ``SCOPE`` of them, are
given to the word features as ``!word`` ("that is not right" -> that is not !right). A
negated word then has weights of its own, learnt from the examples, instead of lending the
negator's pull towards deny to every sentence that contains one ("the kettle does not work"
is a return; "that's not right" is a deny). Character n-grams still see the plain word, so
spelling tolerance is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialog.nlu.tokens import is_word

# "don't" -> "do not", "doesn’t" -> "does not": one negator token instead of "don" + "t"
CONTRACTION = re.compile(r"n['’]t\b", re.IGNORECASE)

NEGATORS = frozenset(
    {
        "not", "no", "never", "nothing", "nobody", "cannot", "dont", "doesnt", "didnt",
        "isnt", "wasnt", "arent", "werent", "cant", "wont", "havent", "hasnt", "without",
        "nie", "ani", "nigdy", "nic", "bez",
        "не", "нет", "ни", "никогда", "ничего", "без",
    }
)  # fmt: skip
BREAKS = frozenset(".,!?;:()")
SCOPE = 3  # words; customers rarely punctuate, so a scope to the end of the text is too wide
MARK = "!"


def expand_contractions(text: str) -> str:
    return CONTRACTION.sub(" not", text)


def mark_negated(tokens: Sequence[str]) -> list[str]:
    """``tokens`` with punctuation tokens (``BREAKS``); returns words only, negated ones
    marked."""
    marked: list[str] = []
    left = 0
    for token in tokens:
        if token in BREAKS:
            left = 0
            continue
        if token in NEGATORS:
            marked.append(token)
            left = SCOPE
        elif left and is_word(token):
            marked.append(MARK + token)
            left -= 1
        else:
            marked.append(token)
    return marked
