"""Which of the bot's languages a single message is written in, and how sure we are.

Script decides first: a message written mostly in Cyrillic is Russian, and Polish
diacritics (ąćęłńóśźż) mark Polish. Latin text without diacritics ("gdzie jest moja
paczka" vs "where is my parcel") goes to a character n-gram logistic regression trained on
the English and (diacritic-stripped) Polish training files.

Confidence is capped by length because one word ("ok", "no", "super") says little about
the language: a single word never reaches 0.5 unless its script gives it away, two words
stay below 0.9. The dialog switches language only at >= 0.7 (``SWITCH_CONFIDENCE``), so a
bare "ok" or "A-1001" (no words at all: confidence 0.0) never switches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dialog.nlu.features import NgramFeatures
from dialog.nlu.labels import LANGUAGES
from dialog.nlu.scoring import SoftmaxScorer
from dialog.nlu.tokens import fold, is_word

SWITCH_CONFIDENCE = 0.7
DEFAULT_LANGUAGE = LANGUAGES[0]  # the guess for a message with no words at all

_POLISH_LETTERS = frozenset("ąćęłńóśźż")
_SCRIPT_CONFIDENCE = 0.97  # many Cyrillic letters, or several Polish words with diacritics
_ONE_WORD_SCRIPT_CONFIDENCE = 0.8  # "да", "dzięki": the script is clear, the word is short
_ONE_WORD_CAP = 0.45
_TWO_WORDS_CAP = 0.85
_MIXED_SCRIPT_CAP = 0.75  # an English sentence quoting a Polish street name


class LanguageDetector:
    def __init__(self, features: NgramFeatures, scorer: SoftmaxScorer) -> None:
        self._features = features
        self._scorer = scorer

    @classmethod
    def train(cls, tokens_by_language: Mapping[str, Sequence[Sequence[str]]]) -> LanguageDetector:
        """Fit the en/pl model on tokenised training texts; Russian needs no model."""
        documents: list[list[str]] = []
        labels: list[str] = []
        for language in ("en", "pl"):
            for tokens in tokens_by_language[language]:
                words = [fold(word) for word in _words(tokens)]
                if words:
                    documents.append(words)
                    labels.append(language)
        features = NgramFeatures(char_sizes=(1, 4), word_sizes=None)
        from sklearn.linear_model import LogisticRegression  # training only

        model = LogisticRegression(C=10.0, max_iter=1000).fit(features.fit(documents), labels)
        return cls(features, SoftmaxScorer(model))

    def detect(self, tokens: Sequence[str]) -> tuple[str, float]:
        """``tokens`` as produced by ``tokens.tokenize`` on entity-masked text."""
        words = _words(tokens)
        if not words:
            return DEFAULT_LANGUAGE, 0.0
        letters = [char for word in words for char in word if char.isalpha()]
        cyrillic = sum(1 for char in letters if _is_cyrillic(char))
        one_word = len(words) == 1
        script_confidence = _ONE_WORD_SCRIPT_CONFIDENCE if one_word else _SCRIPT_CONFIDENCE
        if 2 * cyrillic > len(letters):
            return "ru", script_confidence

        language, probability = self._scorer.best(
            self._features.vector([fold(word) for word in words])
        )
        polish_words = sum(1 for word in words if _POLISH_LETTERS.intersection(word))
        if polish_words:
            if language == "pl" or 3 * polish_words >= len(words):
                return "pl", script_confidence
            return language, min(probability, _MIXED_SCRIPT_CAP)
        if one_word:
            return language, min(probability, _ONE_WORD_CAP)
        if len(words) == 2:
            return language, min(probability, _TWO_WORDS_CAP)
        return language, probability


def _is_cyrillic(char: str) -> bool:
    return "\u0430" <= char <= "\u044f" or char == "\u0451"  # lower-case а..я and ё


def _words(tokens: Sequence[str]) -> list[str]:
    return [token for token in tokens if is_word(token)]
