"""Adapters and use cases looked up by the protocol (or class) they implement: the
composition root (bot.py) registers them; the turn's bound shop (dialog/flows/shop.py) and
the console look them up when used, so that a test that registers a fake is heard at once.
Flows never see this registry: they ask `turn.shop`.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class Services:
    def __init__(self) -> None:
        self._by_kind: dict[type[Any], Any] = {}

    def add(self, kind: type[T], implementation: T) -> None:
        self._by_kind[kind] = implementation

    def get(self, kind: type[T]) -> T:
        try:
            return self._by_kind[kind]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"no {kind.__name__} registered (wire it in bot.py)") from None
