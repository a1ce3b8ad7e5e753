"""Every figure of the dashboard for one range and filters, as JSON-ready data."""

from __future__ import annotations

from typing import Any

from console.analytics.confirmations import confirmation_figures
from console.analytics.conversations import conversation_figures
from console.analytics.drilldown import drill_down
from console.analytics.operators import operator_figures
from console.analytics.periods import Filters
from console.analytics.scope import Scope
from console.analytics.selfservice import self_service_figures
from storage.database import Database


class Analytics:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def figures(self, filters: Filters, compare: bool = False) -> dict[str, Any]:
        """compare: also the same figures' single values (not series nor tables) for the
        period just before, as long, under "previous" (the dashboard's comparison)."""
        async with self._database.transaction() as session:
            figures = await _all(Scope(session, filters))
            if compare:
                before = filters.previous()
                earlier = await _all(Scope(session, before))
                figures["previous"] = {
                    "range": before.to_json() | {"periods": []},
                    **{section: _single_values(earlier[section]) for section in SECTIONS}}
            return figures

    async def drill_down(self, filters: Filters, **which: Any) -> dict[str, Any]:
        """The conversations behind a figure (console/analytics/drilldown.py)."""
        async with self._database.transaction() as session:
            return await drill_down(Scope(session, filters), **which)


SECTIONS = ("conversations", "confirmation", "self_service", "operators")


async def _all(scope: Scope) -> dict[str, Any]:
    return {
        "range": scope.filters.to_json(),
        "conversations": await conversation_figures(scope),
        "confirmation": await confirmation_figures(scope),
        "self_service": await self_service_figures(scope),
        "operators": await operator_figures(scope),
    }


def _single_values(section: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a section, one level deep (satisfaction's average stays); no lists."""
    kept: dict[str, Any] = {}
    for name, value in section.items():
        if isinstance(value, dict):
            inner = _single_values(value)
            if inner:
                kept[name] = inner
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            kept[name] = value
    return kept
