"""Spelling tolerance for words the training data never had ("cacnel", "somrbody").

A SymSpell-style index (Wolf Garbe's symmetric delete): every training word is stored under
itself and under each string made by deleting one of its letters. A word not in the
vocabulary looks up itself and its own one-letter deletions; what the two share is within
one insertion, deletion, substitution or transposition of it, which ``_within_one`` then
checks exactly. Of several candidates the most frequent training word wins. Built at
training time from the training vocabulary (no dictionary to load at start-up), a look-up
is a handful of dict reads, and results are remembered per process.

Words shorter than ``MIN_LENGTH`` are left alone: "bill" is one letter from "will" and
"fill", and short words are where character n-grams already do well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from dialog.nlu.memo import Memo

MIN_LENGTH = 5
_MEMO_LIMIT = 50_000


class SpellingIndex:
    def __init__(self, counts: Counter[str]) -> None:
        self._counts = {word: count for word, count in counts.items() if word.isalpha()}
        index: dict[str, list[str]] = {}
        for word in self._counts:
            if len(word) >= MIN_LENGTH - 1:
                for key in (word, *_deletions(word)):
                    index.setdefault(key, []).append(word)
        self._index = index
        self._memo: Memo[str, str] = Memo(_MEMO_LIMIT)

    def knows(self, word: str) -> bool:
        """Whether ``word`` (as ``correct`` returns it) is a word of the training data."""
        return word in self._counts

    def correct(self, word: str) -> str:
        """The training word ``word`` was most likely meant as, or ``word`` itself."""
        if word in self._counts or len(word) < MIN_LENGTH or not word.isalpha():
            return word
        return self._memo.get(word, self._lookup)

    def _lookup(self, word: str) -> str:
        candidates: set[str] = set()
        for key in (word, *_deletions(word)):
            candidates.update(self._index.get(key, ()))
        close = [c for c in candidates if _within_one(word, c)]
        if not close:
            return word
        return max(close, key=lambda c: (self._counts[c], c))


def _deletions(word: str) -> Iterable[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one(a: str, b: str) -> bool:
    """Optimal-string-alignment distance of ``a`` and ``b`` is at most one."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) < len(b):  # one insertion
        return a[start:] == b[start + 1 :]
    if a[start + 1 :] == b[start + 1 :]:  # one substitution
        return True
    return (  # one transposition
        start + 1 < len(a)
        and a[start] == b[start + 1]
        and a[start + 1] == b[start]
        and a[start + 2 :] == b[start + 2 :]
    )
