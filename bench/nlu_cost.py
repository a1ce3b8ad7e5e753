"""What understanding one message costs: `understand_requests` (dialog/nlu/requests.py, what a
turn calls) in µs of CPU per message, in-process, on the prepared model.

Two sets of texts, because the model remembers recent texts (dialog/nlu/memo.py) and a gain
that only the memo gives would flatter a benchmark whose customers repeat themselves:
- benchmark: the benchmark's conversation (bench/conversation.py), repeated as customers do;
- varied: every line of the dev sets (tests/nlu_dev), each read once per round by a model whose
  memo of texts is emptied first: every text is new, most of its words are not (a running bot);
- varied cold: the same with every memo emptied (the words' n-grams and spelling too).

    python -m bench.nlu_cost [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bench.conversation import DemoOrder, conversation
from dialog.nlu.classifier import NluModel
from dialog.nlu.examples import read_examples
from dialog.nlu.prepared import prepared_model
from dialog.nlu.requests import understand_requests

DEV = Path(__file__).resolve().parent.parent / "tests" / "nlu_dev"


def benchmark_texts(count: int = 2000) -> list[str]:
    orders = [DemoOrder(f"A-{1001 + n}", f"{10 + n:02d}-{100 + n}") for n in range(40)]
    texts: list[str] = []
    first = 0
    while len(texts) < count:
        steps = conversation(orders, first)
        texts += [next(steps).text for _ in range(5)]
        first += 1
    return texts[:count]


def varied_texts() -> list[str]:
    return [example.text for language in ("en", "pl", "ru")
            for example in read_examples(DEV / f"{language}.tsv")]


def forget(model: NluModel, words: bool) -> None:
    """Empty what the model remembers of texts (and with `words`, of words) per process."""
    model._memo.found.clear()  # noqa: SLF001  (a benchmark looks inside on purpose)
    if words:
        model._features._token_grams.found.clear()  # noqa: SLF001
        model._language_detector._features._token_grams.found.clear()  # noqa: SLF001
        model._normaliser._spelling._memo.found.clear()  # noqa: SLF001


def cost(model: NluModel, texts: Sequence[str], forgotten: str) -> float:
    """µs of CPU per message, one pass; `forgotten`: "" | "texts" | "words" (and texts)."""
    if forgotten:
        forget(model, words=forgotten == "words")
    started = time.process_time()
    for text in texts:
        understand_requests(model, text)
    return (time.process_time() - started) / len(texts) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlu_cost")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    model = prepared_model()
    sets = (("benchmark", benchmark_texts(), ""), ("varied", varied_texts(), "texts"),
            ("varied cold", varied_texts(), "words"))
    for name, texts, forgotten in sets:
        cost(model, texts, forgotten)  # warm-up: imports, first allocations
        figures = [cost(model, texts, forgotten) for _ in range(args.rounds)]
        print(f"nlu_cost: {name}: {len(texts)} texts, {statistics.median(figures):.1f} µs of "
              f"CPU per message (median of {args.rounds}; min {min(figures):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
