"""What every figure's query shares: the session, the filters, and the helpers that apply them."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.analytics.periods import Filters, period_of
from dialog.tables import Conversation, Event

_Columns = TypeVarTuple("_Columns")  # a query's columns, kept through the filters


@dataclass(frozen=True)
class Scope:
    session: AsyncSession
    filters: Filters

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def period(self, column: Any) -> Any:
        return period_of(column, self.dialect, self.filters.group)

    def within(self, query: Select[*_Columns], at: Any) -> Select[*_Columns]:
        """Only rows whose time `at` is in the range."""
        return query.where(at >= self.filters.since, at < self.filters.until)

    def of_conversations(
        self, query: Select[*_Columns], conversation_id: Any
    ) -> Select[*_Columns]:
        """Only rows of conversations on the chosen channel and in the chosen language."""
        filters = self.filters
        if filters.channel is None and filters.language is None:
            return query
        query = query.join(Conversation, Conversation.id == conversation_id)
        if filters.channel is not None:
            query = query.where(Conversation.channel == filters.channel)
        if filters.language is not None:
            query = query.where(Conversation.language == filters.language)
        return query


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def median_seconds(pairs: list[tuple[datetime, datetime]]) -> int | None:
    """The median of (end - start) in whole seconds; None for no pairs."""
    spans = [(end - start).total_seconds() for start, end in pairs]
    return round(statistics.median(spans)) if spans else None


def series(
    periods: list[str], **columns: Mapping[str, int | float | None]
) -> list[dict[str, Any]]:
    """One row a period, every column filled (0 where a period has nothing)."""
    return [{"period": period, **{name: values.get(period, 0) for name, values in columns.items()}}
            for period in periods]


def event_rows(scope: Scope, kind: str) -> Any:
    """The ids of the events of this kind in the range and the filters' conversations."""
    query = select(Event.id).where(Event.kind == kind)
    return scope.of_conversations(scope.within(query, Event.at), Event.conversation_id)


async def count_events(scope: Scope, kind: str) -> int:
    return int(await scope.session.scalar(
        event_rows(scope, kind).with_only_columns(func.count())) or 0)


async def per_period(scope: Scope, kind: str) -> dict[str, int]:
    period = scope.period(Event.at)
    rows = await scope.session.execute(
        event_rows(scope, kind).with_only_columns(period, func.count()).group_by(period))
    return {label: count for label, count in rows}
