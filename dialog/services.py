"""What flows may use besides the order core: adapters and use cases, looked up by the
protocol (or class) they implement. bot.py registers them; a flow asks for what it needs:

    inventory = turn.services.get(Inventory)

Flows stay testable: a test registers a local implementation or a fake.
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
