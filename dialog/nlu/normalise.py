"""From an entity-masked message to what the intent model's features see.

Both training and serving go through ``Normaliser.analyse``, so the model is fitted on
exactly the form it later scores: lower-cased, Polish diacritics and "ё" folded, "n't"
spelt "not", words the training never had corrected to the nearest training word
(dialog/nlu/spelling.py), and negated words marked for the word n-grams
(dialog/nlu/negation.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

from dialog.nlu.negation import BREAKS, expand_contractions, mark_negated
from dialog.nlu.spelling import SpellingIndex
from dialog.nlu.tokens import fold, tokenize_with_breaks


@dataclass(frozen=True, slots=True)
class Analysed:
    tokens: list[str]  # what the character n-grams see
    words: list[str]  # what the word n-grams see: ``tokens`` with negated words marked


class Normaliser:
    def __init__(self, spelling: SpellingIndex) -> None:
        self._spelling = spelling

    @classmethod
    def train(cls, masked_texts: Sequence[str]) -> tuple[Normaliser, list[Analysed]]:
        """A normaliser whose spelling tolerance knows the words of ``masked_texts`` (the
        training data), and those texts analysed by it."""
        # Every word of the training texts is in the vocabulary, so spelling correction would
        # leave them as they are: analyse them before the index exists, then build it.
        analysed = [_analyse(text, _as_written) for text in masked_texts]
        counts = Counter(chain.from_iterable(a.tokens for a in analysed))
        return cls(SpellingIndex(counts)), analysed

    def analyse(self, masked_text: str) -> Analysed:
        return _analyse(masked_text, self._spelling.correct)

    def known_share(self, analysed: Analysed) -> float:
        """The share of its words the training data has (after spelling correction): ~0 for
        keyboard mash such as "qwzx vbnm", which the model still has to give some intent."""
        words = [token for token in analysed.tokens if token.isalpha()]
        if not words:
            return 0.0
        return sum(self._spelling.knows(word) for word in words) / len(words)


def _as_written(word: str) -> str:
    return word


def _analyse(masked_text: str, correct: Callable[[str], str]) -> Analysed:
    # folding before tokenising gives the same tokens: ą and a are both word characters
    with_breaks = [
        correct(token) for token in tokenize_with_breaks(fold(expand_contractions(masked_text)))
    ]
    return Analysed(
        tokens=[token for token in with_breaks if token not in BREAKS],
        words=mark_negated(with_breaks),
    )
