"""Every figure of the dashboard for one range and filters, as JSON-ready data."""

from __future__ import annotations

from typing import Any

from console.analytics.confirmations import confirmation_figures
from console.analytics.conversations import conversation_figures
from console.analytics.operators import operator_figures
from console.analytics.periods import Filters
from console.analytics.scope import Scope
from console.analytics.selfservice import self_service_figures
from storage.database import Database


class Analytics:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def figures(self, filters: Filters) -> dict[str, Any]:
        async with self._database.transaction() as session:
            scope = Scope(session, filters)
            return {
                "range": filters.to_json(),
                "conversations": await conversation_figures(scope),
                "confirmation": await confirmation_figures(scope),
                "self_service": await self_service_figures(scope),
                "operators": await operator_figures(scope),
            }
