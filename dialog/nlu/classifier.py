"""Intent classification: one model for English, Polish and Russian.

One model rather than one per language because the intent labels are shared, character
n-grams already keep the scripts apart, and customers mix languages within a message
(Polish without diacritics, English product names in Russian text). A per-language model
would also make every intent depend on the language detector being right first, which it
cannot be for "ok" or "A-1001". The training set is small (~7,200 lines), so a single
logistic regression over character n-grams (2-5, robust to typos and inflection:
заказ/заказа/заказом, paczka/paczki/paczkę) plus word uni- and bigrams trains in about a
second (most of the start-up cost is importing scikit-learn).

Before classifying, order numbers, e-mails and postcodes are replaced by placeholder
tokens, romanised Russian is turned back into Cyrillic, and the text is normalised
(normalise.py: folding, spelling tolerance, negation scope). docs/nlu.md has the whole path
and the figures.

A message with no words left after that - only an order number, e-mail, postcode or other
digits and punctuation - gets intent ``out_of_scope`` with confidence 0.0, plus its
entities: the dialog treats it as an entity-only reply to its last question.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dialog.nlu.clauses import first_clause
from dialog.nlu.entities import Entities, scan
from dialog.nlu.examples import Example, read_examples
from dialog.nlu.features import NgramFeatures
from dialog.nlu.labels import INTENTS, LANGUAGES, NO_INTENT
from dialog.nlu.language import LanguageDetector, is_cyrillic
from dialog.nlu.memo import Memo
from dialog.nlu.normalise import Normaliser
from dialog.nlu.scoring import SoftmaxScorer
from dialog.nlu.tokens import is_word, tokenize
from dialog.nlu.translit import SCHEMES, cyrillise, romanise

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"

# Chosen on the dev sets (858 messages by writers who never saw the training data) and
# tests/nlu_eval.tsv, see docs/nlu.md: at 0.50, 95% of the correct dev answers pass, 58% of
# the wrong ones are caught and 8% of messages are asked about (two buttons); at 0.40 only a
# third of the wrong ones were caught, at 0.60 9% of the correct ones would be asked again.
DEFAULT_THRESHOLD = 0.50

_REGULARISATION = 10.0  # LogisticRegression C; higher fits the small data set closer
_TOLERANCE = 1e-3
_EPOCHS = 15


MAX_UNDERSTOOD_CHARS = 1000
RANKED = 3  # intents kept in Understanding.ranked
EXTRA_WEIGHT = 3.0  # an operator's label is a real customer's words: worth three written ones
# the eight intents that are requests (the others answer or greet the bot)
REQUESTS = frozenset(INTENTS) - {"greet", "goodbye", "thanks", "affirm", "deny"}
_FIRST_REQUEST_CONFIDENCE = 0.7
_MEMO_LIMIT = 4096  # recent texts remembered per process ("yes", "thanks", button echoes)


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
    # The share of the message's words the training data knows (spelling tolerated): text
    # that reads as a language has most of them; keyboard mash has none.
    known_words: float = 1.0


class NluModel:
    threshold: float = DEFAULT_THRESHOLD  # below this, the bot asks the customer again

    def __init__(
        self,
        normaliser: Normaliser,
        features: NgramFeatures,
        scorer: SoftmaxScorer,
        language_detector: LanguageDetector,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._normaliser = normaliser
        self._features = features
        self._scorer = scorer
        self._language_detector = language_detector
        self.threshold = threshold
        self._memo: Memo[str, Understanding] = Memo(_MEMO_LIMIT)

    @classmethod
    def train(
        cls, data_dir: Path | None = None, extra: Sequence[Example] = ()
    ) -> NluModel:
        """Train on ``<language>.tsv`` files (one ``intent<TAB>text`` a line), plus ``extra``
        examples (operators' labels: dialog/nlu/retrain.py) in any language, each of which
        weighs ``EXTRA_WEIGHT`` training lines."""
        # training only: see prepared.py
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        started = time.perf_counter()
        directory = DATA_DIR if data_dir is None else data_dir
        texts: list[str] = []
        labels: list[str] = []
        weights: list[float] = []
        language_tokens: dict[str, list[list[str]]] = {}
        for language in LANGUAGES:
            examples = read_examples(directory / f"{language}.tsv")
            masked = [scan(example.text).masked_text.lower() for example in examples]
            texts.extend(masked)
            labels.extend(example.intent for example in examples)
            weights.extend(1.0 for _ in examples)
            if language == "ru":
                # the language detector learns romanised Russian; the intent model needs no
                # romanised copies, serving turns such text back into Cyrillic
                language_tokens["ru"] = [
                    tokenize(romanise(text, n % len(SCHEMES))) for n, text in enumerate(masked)
                ]
            else:
                language_tokens[language] = [tokenize(text) for text in masked]
        for example in extra:
            texts.append(scan(example.text).masked_text.lower())
            labels.append(example.intent)
            weights.append(EXTRA_WEIGHT)

        normaliser, analysed = Normaliser.train(texts)
        features = NgramFeatures(char_sizes=(2, 5), word_sizes=(1, 2))
        matrix = features.fit([a.tokens for a in analysed], [a.words for a in analysed])
        # "sag" fits this sparse, 13-class problem fastest (lbfgs took seconds). It is stopped
        # after _EPOCHS passes, before the last digits of the optimum: further passes took
        # training at start past its 2 s budget and changed no intent on the dev sets.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(
                C=_REGULARISATION, solver="sag", tol=_TOLERANCE, max_iter=_EPOCHS, random_state=0
            ).fit(matrix, labels, sample_weight=weights)
        language_detector = LanguageDetector.train(language_tokens)
        logger.info(
            "NLU model trained on %d examples, %d features in %.2f s",
            len(texts),
            features.size,
            time.perf_counter() - started,
        )
        return cls(normaliser, features, SoftmaxScorer(model), language_detector)

    def understand(self, text: str) -> Understanding:
        # What a customer asks is in the first lines; the entity patterns cost more than
        # linear time on very long words, and a turn must not hold the event loop.
        text = text[:MAX_UNDERSTOOD_CHARS]
        return self._memo.get(text, self._understand_uncached)

    def _understand_uncached(self, text: str) -> Understanding:
        entity_scan = scan(text)
        masked = entity_scan.masked_text.lower()
        tokens = tokenize(masked)
        language, language_confidence = self._language_detector.detect(tokens)
        if not any(is_word(token) for token in tokens):
            return Understanding(
                NO_INTENT, 0.0, language, language_confidence, entity_scan.entities
            )
        ranked, known = self._reading(masked)
        if language == "ru" and not _has_cyrillic(masked):
            # Romanised Russian, or a short English/Polish text that reads like it ("no",
            # "da"): whichever reading the model is surer of wins.
            cyrillic = cyrillise(masked)
            as_russian, known_as_russian = self._reading(cyrillic)
            if as_russian[0][1] > ranked[0][1]:
                masked, ranked, known = cyrillic, as_russian, known_as_russian
            else:
                language, language_confidence = self._language_detector.detect(
                    tokens, romanised=False
                )
        ranked = self._first_request(masked, language, ranked)
        intent, confidence = ranked[0]
        return Understanding(
            intent, confidence, language, language_confidence, entity_scan.entities, ranked,
            known_words=known,
        )

    def _first_request(
        self, masked_text: str, language: str, ranked: tuple[tuple[str, float], ...]
    ) -> tuple[tuple[str, float], ...]:
        """The reading of the first request when the message holds more than one."""
        if ranked[0][0] not in REQUESTS:
            return ranked
        first = first_clause(masked_text, language)
        if first is None or not any(is_word(token) for token in tokenize(first)):
            return ranked
        first_ranked = self._reading(first)[0]
        intent, confidence = first_ranked[0]
        if (
            intent != ranked[0][0]
            and intent in REQUESTS
            and confidence >= _FIRST_REQUEST_CONFIDENCE
        ):
            return first_ranked
        return ranked

    def _reading(self, masked_text: str) -> tuple[tuple[tuple[str, float], ...], float]:
        """The ranked intents of the text, and the share of its words the data knows (one
        analysis for both)."""
        analysed = self._normaliser.analyse(masked_text)
        ranked = self._scorer.ranked(self._features.vector(analysed.tokens, analysed.words), RANKED)
        return ranked, self._normaliser.known_share(analysed)


def _has_cyrillic(text: str) -> bool:
    return any(map(is_cyrillic, text))
