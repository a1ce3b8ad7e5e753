"""Learning from operators' labels: train with them, and keep the new model only if it is not
worse on the holdout (docs/deploy.md, "Learning from operators").

The holdout is the evaluation set no training example was derived from: one file a language,
and the score is the average of the per-language accuracies, so that the language with the
most messages does not decide alone.

What was learned is remembered beside the prepared model (dialog/nlu/prepared.py's folder), for
the current training data and code (its fingerprint): a state file naming the digest of the
labels last tried, the labels the accepted model was trained with, and that model's file. A
start with the same labels loads it (no training, no scikit-learn); new labels train again.
Erasure: a learned model whose labels are no longer all in the database (a customer erased, a
transcript past its retention, a label removed or changed) is deleted at the next start or
retrain and never used as the yardstick again; the model is trained anew without those labels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dialog.nlu.classifier import NluModel
from dialog.nlu.examples import Example, read_examples
from dialog.nlu.labels import LANGUAGES
from dialog.nlu.prepared import default_cache, fingerprint

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
HOLDOUT_DIR = ROOT / "tests" / "nlu_holdout"  # en.tsv, pl.tsv, ru.tsv: never trained on
# Until the holdout's files exist: the evaluation set, whose "# --- en ---" sections split it
# by language.
STAND_IN = ROOT / "tests" / "nlu_eval.tsv"
_SECTION = re.compile(r"#\s*---\s*(\w+)\s*---")
# "Not worse" within the optimiser's own noise: training with two lines the data already holds
# (no new meaning at all) moved the holdout score by -0.0007 to -0.0011, so a difference that
# small says nothing about the labels. Labels that teach wrong meanings cost far more (tests:
# -0.26).
TOLERANCE = 0.002

Holdout = dict[str, list[Example]]


class HoldoutMissing(Exception):
    """Neither the holdout's files nor the stand-in are there to score a model on."""


@dataclass(frozen=True)
class OperatorLabel:
    """One operator's label of a customer message, as the model learns it."""

    message_id: int
    intent: str
    text: str

    @property
    def key(self) -> str:
        """Changes when the label changes (another intent) or its message does."""
        raw = f"{self.message_id}\0{self.intent}\0{self.text}".encode()
        return hashlib.sha256(raw).hexdigest()[:20]

    def example(self) -> Example:
        return Example(intent=self.intent, text=self.text, line=self.message_id)


def labels_digest(keys: frozenset[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


def read_holdout(directory: Path | None = None, stand_in: Path | None = None) -> Holdout:
    """{language: examples}; raises HoldoutMissing, or ValueError for a malformed line."""
    directory = HOLDOUT_DIR if directory is None else directory
    stand_in = STAND_IN if stand_in is None else stand_in
    files = {language: directory / f"{language}.tsv" for language in LANGUAGES}
    if all(path.is_file() for path in files.values()):
        return {language: read_examples(path) for language, path in files.items()}
    if not stand_in.is_file():
        raise HoldoutMissing(f"no holdout: neither {directory}/{{en,pl,ru}}.tsv nor {stand_in}")
    holdout: Holdout = {language: [] for language in LANGUAGES}
    language = None
    sections: dict[int, str] = {}
    for number, line in enumerate(stand_in.read_text(encoding="utf-8").splitlines(), 1):
        heading = _SECTION.match(line.strip())
        if heading:
            language = heading.group(1)
        elif language in holdout:
            sections[number] = language
    for example in read_examples(stand_in):
        if example.line in sections:
            holdout[sections[example.line]].append(example)
    return holdout


def describe_holdout(holdout: Holdout, directory: Path | None = None) -> str:
    """Where the holdout comes from and how many messages of each language it has."""
    directory = HOLDOUT_DIR if directory is None else directory
    whole = all((directory / f"{language}.tsv").is_file() for language in LANGUAGES)
    source = _shown(directory) if whole else f"{_shown(STAND_IN)} (stand-in)"
    counts = ", ".join(f"{language} {len(examples)}" for language, examples in holdout.items())
    return f"{source}: {counts}"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@dataclass(frozen=True)
class Scores:
    by_language: dict[str, float]

    @property
    def overall(self) -> float:
        return sum(self.by_language.values()) / len(self.by_language)


def score(model: NluModel, holdout: Holdout) -> Scores:
    """Accuracy per language (the languages with examples) on the holdout."""
    accuracies = {}
    for language, examples in holdout.items():
        if examples:
            right = sum(model.understand(e.text).intent == e.intent for e in examples)
            accuracies[language] = right / len(examples)
    if not accuracies:
        raise HoldoutMissing("the holdout has no examples")
    return Scores(accuracies)


@dataclass(frozen=True)
class Retraining:
    current: Scores
    candidate: Scores
    model: NluModel  # the one trained with the labels

    @property
    def accepted(self) -> bool:
        return self.candidate.overall >= self.current.overall - TOLERANCE

    def table(self) -> str:
        """Both scores per language and overall, one model a line."""
        languages = list(self.current.by_language)
        lines = ["model    " + "".join(f"{language:>8}" for language in languages)
                 + f"{'overall':>9}"]
        for name, scores in (("current", self.current), ("new", self.candidate)):
            lines.append(f"{name:<9}" + "".join(f"{scores.by_language[language]:8.3f}"
                                               for language in languages)
                         + f"{scores.overall:9.3f}")
        return "\n".join(lines)


def retrain(current: NluModel, labels: Sequence[OperatorLabel], holdout: Holdout) -> Retraining:
    """Train on the data plus the labels; score it and the current model on the holdout."""
    candidate = NluModel.train(extra=[label.example() for label in labels])
    return Retraining(score(current, holdout), score(candidate, holdout), candidate)


@dataclass(frozen=True)
class Learned:
    """A model and the keys of the operators' labels it was trained with (none: the base)."""

    model: NluModel
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _State:
    tried: str  # digest of the labels last retrained with (accepted or not)
    labels: frozenset[str]  # those the accepted model learned; empty: the base model
    model: str | None  # its file in the folder


class LearnedModels:
    """The learned model and what was tried, kept beside the prepared model for the current
    training data and code and for one database (the labels are its). An unreadable or
    unwritable folder only means learning again."""

    def __init__(self, database_url: str, folder: Path | None = None) -> None:
        self.folder = folder or default_cache()
        database = hashlib.sha256(database_url.encode()).hexdigest()[:8]
        self._prefix = f"nlu-{fingerprint()}-learned-{database}"

    def current(self, base: NluModel, labels: Sequence[OperatorLabel]) -> tuple[Learned, bool]:
        """The model to serve for these labels as far as known, and whether these very labels
        were tried already. A learned model with a label no longer there is deleted."""
        keys = frozenset(label.key for label in labels)
        state = self._read()
        if state is None:
            return Learned(base), False
        if not state.labels <= keys:  # erased, removed or changed: forget that model
            log.info("NLU: operators' labels were removed; the model learned from them is "
                     "deleted")
            self._write(_State("", frozenset(), None), None)
            return Learned(base), False
        tried = state.tried == labels_digest(keys)
        if not state.labels:
            return Learned(base), tried
        model = self._load(state.model)
        if model is None:
            return Learned(base), False
        return Learned(model, state.labels), tried

    def record(self, labels: Sequence[OperatorLabel], served: Learned,
               trained: NluModel | None = None) -> None:
        """These labels were tried; `served` is the outcome (`trained` its model when it is a
        new one, to be written)."""
        keys = frozenset(label.key for label in labels)
        name = f"{self._prefix}-{labels_digest(served.labels)}.pickle" if served.labels else None
        self._write(_State(labels_digest(keys), served.labels, name), trained)

    def _read(self) -> _State | None:
        try:
            raw = json.loads((self.folder / f"{self._prefix}.json").read_text())
            return _State(str(raw["tried"]), frozenset(raw["labels"]), raw["model"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("NLU: learned-model state unreadable (%s); learning again", error)
            return None

    def _load(self, name: str | None) -> NluModel | None:
        if not name:
            return None
        try:
            with (self.folder / name).open("rb") as file:
                model = pickle.load(file)  # our own file, in the user's own cache folder
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            log.warning("NLU: learned model %s unreadable (%s); learning again", name, error)
            return None
        return model if isinstance(model, NluModel) else None

    def _write(self, state: _State, model: NluModel | None) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if model is not None and state.model:
                _replace(self.folder / state.model,
                         pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
            _replace(self.folder / f"{self._prefix}.json", json.dumps({
                "tried": state.tried, "labels": sorted(state.labels), "model": state.model,
            }).encode())
            for old in self.folder.glob(f"{self._prefix}-*.pickle"):
                if old.name != state.model:  # learned from labels that are gone
                    old.unlink(missing_ok=True)
        except OSError as error:
            log.warning("NLU: learned model not kept in %s (%s)", self.folder, error)


def _replace(path: Path, content: bytes) -> None:
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(content)
    partial.replace(path)  # whole or not at all, also with two processes starting


def learn(base: NluModel, labels: Sequence[OperatorLabel], store: LearnedModels,
          holdout: Holdout | None = None) -> tuple[Learned, Retraining | None]:
    """At start: the model to serve. With labels not tried yet, retrain and keep the new model
    only if it is not worse (Retraining says how it went); otherwise no training at all."""
    current, tried = store.current(base, labels)
    if not labels or tried:  # no labels: the base model (a learned one was deleted)
        return current, None
    try:
        holdout = holdout if holdout is not None else read_holdout()
        retraining = retrain(current.model, labels, holdout)
    except (HoldoutMissing, ValueError) as error:
        log.warning("NLU: operators' labels not learned: %s", error)
        return current, None
    keys = frozenset(label.key for label in labels)
    served = Learned(retraining.model, keys) if retraining.accepted else current
    store.record(labels, served, retraining.model if retraining.accepted else None)
    return served, retraining
