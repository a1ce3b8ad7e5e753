"""Scoring an NluModel against a labelled file and formatting the report."""

from __future__ import annotations

from pathlib import Path

from dialog.nlu.classifier import NluModel
from dialog.nlu.examples import read_examples
from dialog.nlu.labels import INTENTS


def evaluate(model: NluModel, path: Path) -> str:
    """Per-intent precision/recall/support; the last line is ``accuracy: 0.NNN``.

    Raises ``ValueError`` naming the line when a line's intent is not one of INTENTS.
    """
    from sklearn.metrics import precision_recall_fscore_support  # not needed to serve

    examples = read_examples(path)
    if not examples:
        raise ValueError(f"{path}: no examples")
    expected = [example.intent for example in examples]
    understood = [model.understand(example.text) for example in examples]
    predicted = [understanding.intent for understanding in understood]
    precision, recall, _, support = precision_recall_fscore_support(
        expected, predicted, labels=list(INTENTS), zero_division=0
    )
    width = max(len(intent) for intent in INTENTS)
    lines = [f"{'intent':<{width}}  precision  recall  support"]
    for intent, p, r, s in zip(INTENTS, precision, recall, support, strict=True):
        lines.append(f"{intent:<{width}}  {p:9.3f}  {r:6.3f}  {s:7d}")

    correct = [e == p for e, p in zip(expected, predicted, strict=True)]
    confident = [u.confidence >= model.threshold for u in understood]
    passed = sum(confident)
    passed_correct = sum(c for c, k in zip(correct, confident, strict=True) if k)
    lines.append(
        f"above threshold {model.threshold:.2f}: {passed}/{len(examples)} messages, "
        f"{passed_correct / passed if passed else 0.0:.3f} of them correct"
    )
    lines.append(f"accuracy: {sum(correct) / len(examples):.3f}")
    return "\n".join(lines)
