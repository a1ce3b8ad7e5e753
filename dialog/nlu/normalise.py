"""From an entity-masked message to what the intent model's features see.

Both training and serving go through ``Normaliser.analyse``, so the model is fitted on
exactly the form it later scores: lower-cased, Polish diacritics and "ё" folded, "n't"
spelt "not", words the training never had corrected to the nearest training word
(dialog/nlu/spelling.py), and negated words marked for the word n-grams
(dialog/nlu/negation.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from dialog.nlu.negation import BREAKS, expand_contractions, mark_negated
from dialog.nlu.spelling import SpellingIndex
from dialog.nlu.tokens import fold, tokenize, tokenize_with_breaks


@dataclass(frozen=True, slots=True)
class Analysed:
    tokens: list[str]  # what the character n-grams see
    words: list[str]  # what the word n-grams see: ``tokens`` with negated words marked


class Normaliser:
    def __init__(self, spelling: SpellingIndex) -> None:
        self._spelling = spelling

    @classmethod
    def train(cls, masked_texts: Iterable[str]) -> Normaliser:
        """Spelling tolerance knows the words of ``masked_texts`` (the training data)."""
        counts: Counter[str] = Counter()
        for text in masked_texts:
            counts.update(fold(token) for token in tokenize(expand_contractions(text)))
        return cls(SpellingIndex(counts))

    def analyse(self, masked_text: str) -> Analysed:
        correct = self._spelling.correct
        with_breaks = [
            correct(fold(token))
            for token in tokenize_with_breaks(expand_contractions(masked_text))
        ]
        return Analysed(
            tokens=[token for token in with_breaks if token not in BREAKS],
            words=mark_negated(with_breaks),
        )
