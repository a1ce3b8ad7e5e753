"""Reading labelled example files: one ``intent<TAB>text`` a line.

Blank lines and lines starting with ``#`` are skipped. A malformed line or an unknown
intent raises ``ValueError`` naming the file and line, so a typo in the data fails loudly
instead of silently training or scoring a label the bot cannot handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dialog.nlu.labels import INTENTS


@dataclass(frozen=True, slots=True)
class Example:
    intent: str
    text: str
    line: int


def read_examples(path: Path) -> list[Example]:
    examples: list[Example] = []
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            intent, tab, text = line.partition("\t")
            intent, text = intent.strip(), text.strip()
            if not tab or not text:
                raise ValueError(f"{path}, line {number}: expected 'intent<TAB>text'")
            if intent not in INTENTS:
                raise ValueError(f"{path}, line {number}: unknown intent {intent!r}")
            examples.append(Example(intent=intent, text=text, line=number))
    return examples
