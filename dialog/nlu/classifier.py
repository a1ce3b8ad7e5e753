"""Intent classification: one model for English, Polish and Russian.

One model rather than one per language because the intent labels are shared, character
n-grams already keep the scripts apart, and customers mix languages within a message
(Polish without diacritics, English product names in Russian text). A per-language model
would also make every intent depend on the language detector being right first, which it
cannot be for "ok" or "A-1001". The training set is small (~1,640 lines), so a single
logistic regression over character n-grams (2-5, robust to typos and inflection:
заказ/заказа/заказом, paczka/paczki/paczkę) plus word uni- and bigrams trains in well under
a second.

Before classifying, order numbers, e-mails and postcodes are replaced by placeholder
tokens, and Polish diacritics and "ё" are folded away.

A message with no words left after that - only an order number, e-mail, postcode or other
digits and punctuation - gets intent ``out_of_scope`` with confidence 0.0, plus its
entities: the dialog treats it as an entity-only reply to its last question.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dialog.nlu.entities import Entities, scan
from dialog.nlu.examples import Example, read_examples
from dialog.nlu.features import NgramFeatures
from dialog.nlu.labels import LANGUAGES, NO_INTENT
from dialog.nlu.language import LanguageDetector
from dialog.nlu.scoring import SoftmaxScorer
from dialog.nlu.tokens import fold, is_word, tokenize

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"

# Chosen on tests/nlu_eval.tsv: at 0.40, 98% of correct predictions pass, 2 of the 9 wrong
# ones are caught, and keyboard mash such as "qwzx vbnm" (0.25) falls below. At 0.50 5% of
# correct answers would be asked again; at 0.30 no wrong answer is caught.
DEFAULT_THRESHOLD = 0.40

_REGULARISATION = 10.0  # LogisticRegression C; higher fits the small data set closer


MAX_UNDERSTOOD_CHARS = 1000
RANKED = 3  # intents kept in Understanding.ranked


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: str  # one of INTENTS
    confidence: float  # probability of the winning intent, 0..1
    language: str  # "en" | "pl" | "ru": best guess for this text
    language_confidence: float  # 0..1; low for short or ambiguous text
    entities: Entities
    # The most likely intents, best first, with their probabilities (the first is
    # ``(intent, confidence)``); empty when the message has no words. Below the threshold the
    # dialog offers the top two as buttons instead of guessing.
    ranked: tuple[tuple[str, float], ...] = ()
    # Set when the message holds more than one request ("cancel A-1001 and where is A-1002"):
    # one Understanding per request, in the order written; empty for a single request.
    requests: tuple[Understanding, ...] = ()


class NluModel:
    threshold: float = DEFAULT_THRESHOLD  # below this, the bot asks the customer again

    def __init__(
        self,
        features: NgramFeatures,
        scorer: SoftmaxScorer,
        language_detector: LanguageDetector,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._features = features
        self._scorer = scorer
        self._language_detector = language_detector
        self.threshold = threshold

    @classmethod
    def train(
        cls, data_dir: Path | None = None, extra: Sequence[Example] = ()
    ) -> NluModel:
        """Train on ``<language>.tsv`` files (one ``intent<TAB>text`` a line), plus ``extra``
        examples (operators' labels: dialog/nlu/retrain.py) in any language."""
        from sklearn.linear_model import LogisticRegression  # training only: see prepared.py

        started = time.perf_counter()
        directory = DATA_DIR if data_dir is None else data_dir
        tokens_by_language: dict[str, list[list[str]]] = {}
        documents: list[list[str]] = []
        labels: list[str] = []
        for language in LANGUAGES:
            examples = read_examples(directory / f"{language}.tsv")
            tokenised = [tokenize(scan(example.text).masked_text) for example in examples]
            tokens_by_language[language] = tokenised
            documents.extend([fold(token) for token in tokens] for tokens in tokenised)
            labels.extend(example.intent for example in examples)
        for example in extra:
            documents.append([fold(token) for token in tokenize(scan(example.text).masked_text)])
            labels.append(example.intent)

        features = NgramFeatures(char_sizes=(2, 5), word_sizes=(1, 2))
        matrix = features.fit(documents)
        # "sag" fits this sparse, 13-class problem in ~0.3 s; the default lbfgs needed ~2 s
        model = LogisticRegression(
            C=_REGULARISATION, solver="sag", max_iter=2000, random_state=0
        ).fit(matrix, labels)
        language_detector = LanguageDetector.train(tokens_by_language)
        logger.info(
            "NLU model trained on %d examples, %d features in %.2f s",
            len(documents),
            features.size,
            time.perf_counter() - started,
        )
        return cls(features, SoftmaxScorer(model), language_detector)

    def understand(self, text: str) -> Understanding:
        # What a customer asks is in the first lines; the entity patterns cost more than
        # linear time on very long words, and a turn must not hold the event loop.
        text = text[:MAX_UNDERSTOOD_CHARS]
        entity_scan = scan(text)
        tokens = tokenize(entity_scan.masked_text)
        language, language_confidence = self._language_detector.detect(tokens)
        if not any(is_word(token) for token in tokens):
            return Understanding(
                NO_INTENT, 0.0, language, language_confidence, entity_scan.entities
            )
        ranked = self._scorer.ranked(
            self._features.vector([fold(token) for token in tokens]), RANKED
        )
        intent, confidence = ranked[0]
        return Understanding(
            intent, confidence, language, language_confidence, entity_scan.entities, ranked
        )
