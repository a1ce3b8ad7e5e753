"""Results remembered per process: recent messages, words seen before.

Bounded by emptying it when full (cheaper than LRU bookkeeping on every read, and a chat's
vocabulary refills it within seconds). A pickled model carries an empty memo: what one
process remembered says nothing about the next one's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.found: dict[K, V] = {}

    def __reduce__(self) -> tuple[type[Memo[K, V]], tuple[int]]:
        return (type(self), (self.limit,))

    def get(self, key: K, compute: Callable[[K], V]) -> V:
        found = self.found.get(key)
        if found is None:
            found = compute(key)
            if len(self.found) >= self.limit:
                self.found.clear()
            self.found[key] = found
        return found
