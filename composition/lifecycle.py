"""The order the parts of a process start in, and the reverse order they stop in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Step:
    """A component made of two functions, for what has no start/stop of its own (the
    preparation of the database, the closing of shared connections)."""

    def __init__(
        self, name: str, start: Callable[[], Awaitable[None]] | None = None,
        stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self._start, self._stop = start, stop

    async def start(self) -> None:
        if self._start is not None:
            await self._start()

    async def stop(self) -> None:
        if self._stop is not None:
            await self._stop()

    def __repr__(self) -> str:
        return f"Step({self.name!r})"


class Lifecycle:
    """Starts the components in the order given and stops the started ones in the stop
    order given (by default the reverse of the start order).

    A start that fails stops what already started (and the failing component, which may
    hold part of what it opened), then raises; a stop stops only what was started, each
    component even when one before it failed to stop."""

    def __init__(
        self, components: Sequence[Component], stop_order: Sequence[Component] | None = None,
    ) -> None:
        self.components = tuple(components)
        self.stop_order = tuple(stop_order) if stop_order is not None else self.components[::-1]
        if sorted(map(id, self.stop_order)) != sorted(map(id, self.components)):
            raise ValueError("the stop order must name every component once")
        self._started: list[Component] = []

    async def start(self) -> None:
        for component in self.components:
            try:
                await component.start()
            except BaseException:
                await _stop_quietly(component)
                await self._stop_started(quietly=True)
                raise
            self._started.append(component)

    async def stop(self) -> None:
        await self._stop_started(quietly=False)

    async def _stop_started(self, *, quietly: bool) -> None:
        first: BaseException | None = None
        started, self._started = self._started, []
        for component in (c for c in self.stop_order if any(c is s for s in started)):
            try:
                await component.stop()
            except Exception as error:  # the others still stop: their work is saved
                log.warning("stopping %r failed", component, exc_info=True)
                first = first or error
        if first is not None and not quietly:
            raise first


async def _stop_quietly(component: Component) -> None:
    try:
        await component.stop()
    except Exception:  # a part that never fully started may fail to stop: nothing to save
        log.debug("stopping %r after a failed start", component, exc_info=True)
