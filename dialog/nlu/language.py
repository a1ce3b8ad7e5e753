"""Which of the bot's languages a single message is written in, and how sure we are.

Script decides first: a message written mostly in Cyrillic is Russian, and Polish
diacritics (ąćęłńóśźż) mark Polish. Latin text without diacritics ("gdzie jest moja
paczka" vs "where is my parcel" vs "gde moi zakaz") goes to a character n-gram logistic
regression trained on the English and (diacritic-stripped) Polish training files and on the
Russian ones romanised (dialog/nlu/translit.py).

Confidence is capped by length because one word ("ok", "no", "super") says little about
the language: a single word never reaches 0.5 unless its script gives it away, two words
stay below 0.9. The dialog switches language only at >= 0.7 (``SWITCH_CONFIDENCE``), so a
bare "ok" or "A-1001" (no words at all: confidence 0.0) never switches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

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
_TEXTS_PER_LANGUAGE = 1000
_SMOOTHING = 0.1  # Lidstone: an n-gram unseen in one language's texts is rare there, not absent
# Tf-idf vectors have unit length, so raw Naive Bayes log-odds are flat; scaled so that a
# sentence of three or more words in one language scores >= 0.9.
_SHARPNESS = 3.0


class LanguageDetector:
    def __init__(self, features: NgramFeatures, scorer: SoftmaxScorer) -> None:
        self._features = features
        self._scorer = scorer

    @classmethod
    def train(cls, tokens_by_language: Mapping[str, Sequence[Sequence[str]]]) -> LanguageDetector:
        """Fit the model for Latin script on tokenised training texts: English, Polish and
        Russian ("ru": romanised Russian); Cyrillic needs no model."""
        documents: list[list[str]] = []
        labels: list[str] = []
        for language in LANGUAGES:
            # an even sample is enough to tell three languages apart, and trains faster
            texts = tokens_by_language[language]
            step = max(1, len(texts) // _TEXTS_PER_LANGUAGE)
            for tokens in texts[::step]:
                words = [fold(word) for word in _words(tokens)]
                if words:
                    documents.append(words)
                    labels.append(language)
        features = NgramFeatures(char_sizes=(1, 4), word_sizes=None)
        matrix = features.fit(documents)
        # Naive Bayes over the tf-idf weights: as accurate as a logistic regression for telling
        # three languages apart, and fitted in one pass over the matrix (a logistic regression
        # took a third of the training time).
        classes = tuple(sorted(set(labels)))
        mass = np.vstack(
            [np.asarray(matrix[[i for i, label in enumerate(labels) if label == language]]
                        .sum(axis=0)).ravel() for language in classes]
        ) + _SMOOTHING
        log_likelihoods = np.log(mass / mass.sum(axis=1, keepdims=True))
        priors = np.log(np.array([labels.count(language) for language in classes]) / len(labels))
        scorer = SoftmaxScorer.from_weights(classes, _SHARPNESS * log_likelihoods, priors)
        return cls(features, scorer)

    def detect(self, tokens: Sequence[str], romanised: bool = True) -> tuple[str, float]:
        """``tokens`` as produced by ``tokens.tokenize`` on entity-masked text.

        "ru" for a text in Latin letters means romanised Russian; ``romanised=False`` asks for
        the likelier of English and Polish instead."""
        words = _words(tokens)
        if not words:
            return DEFAULT_LANGUAGE, 0.0
        letters = [char for word in words for char in word if char.isalpha()]
        cyrillic = sum(1 for char in letters if is_cyrillic(char))
        one_word = len(words) == 1
        script_confidence = _ONE_WORD_SCRIPT_CONFIDENCE if one_word else _SCRIPT_CONFIDENCE
        if 2 * cyrillic > len(letters):
            return "ru", script_confidence

        probabilities = self._scorer.probabilities(
            self._features.vector([fold(word) for word in words])
        )
        if not romanised:
            probabilities[self._scorer.classes.index("ru")] = 0.0
        winner = int(probabilities.argmax())
        language = self._scorer.classes[winner]
        probability = float(probabilities[winner] / probabilities.sum())
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


def is_cyrillic(char: str) -> bool:
    return "\u0430" <= char <= "\u044f" or char == "\u0451"  # lower-case а..я and ё


def _words(tokens: Sequence[str]) -> list[str]:
    return [token for token in tokens if is_word(token)]
