"""Where a second request starts: "cancel A-1300 and change the delivery of A-1301".

A message with two requests carries the intent of the first one written. Scored as one bag
of n-grams, the second request often outweighs the first ("where is A-1444 and do you have
the hoodie in XL" read as availability), so the classifier also scores the text before the
first joiner and prefers it when it is clearly a request of its own (classifier.py).
Joiners are the words customers put between two requests, and the end of a question or
sentence followed by more text.
"""

from __future__ import annotations

import re

_END = r"[?!.;]+\s+(?=\w)"  # a question or sentence, then more
_JOINERS = {
    language: re.compile(rf"{_END}|,?\s+(?:{words})\s+")
    for language, words in (
        ("en", "and also|and then|and|also|plus|but also"),
        ("pl", "a przy okazji|a potem|a także|a takze|i jeszcze|i|oraz|a"),
        ("ru", "а также|а ещё|а еще|и ещё|и еще|а потом|и|а|заодно"),
    )
}


def first_clause(text: str, language: str) -> str | None:
    """The text (lower-cased) before the first joiner of ``language``, or None when there is
    none; Polish "i" and "a" are joiners, the English "I" and "a" are not."""
    match = _JOINERS[language].search(text)
    if match is None or match.start() == 0:
        return None
    return text[: match.start()]
