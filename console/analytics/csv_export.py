"""CSV files of the dashboard's tables and of transcripts, safe to open in a spreadsheet.

A cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
carriage return) is written with a leading apostrophe (OWASP's advice on CSV injection):
customers' texts reach these files. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.analytics.periods import Filters
from console.analytics.scope import Scope
from console.analytics.tables import Table
from dialog.tables import Conversation, TranscriptEntry

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRANSCRIPT_LIMIT = 100_000
TRANSCRIPT_COLUMNS = ["conversation_id", "channel", "language", "at", "from", "author", "text",
                      "flow", "intent"]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def to_csv(columns: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def table_csv(table: Table) -> str:
    return to_csv(table.columns, table.rows)


async def transcript_rows(session: AsyncSession, filters: Filters) -> list[list[Any]]:
    """Every message of the range in the filters' conversations, oldest first."""
    scope = Scope(session, filters)
    query = scope.within(
        select(TranscriptEntry.conversation_id, Conversation.channel, Conversation.language,
               TranscriptEntry.at, TranscriptEntry.sender, TranscriptEntry.author,
               TranscriptEntry.text, TranscriptEntry.flow, TranscriptEntry.intent)
        .join(Conversation, Conversation.id == TranscriptEntry.conversation_id),
        TranscriptEntry.at)
    if filters.channel is not None:
        query = query.where(Conversation.channel == filters.channel)
    if filters.language is not None:
        query = query.where(Conversation.language == filters.language)
    rows = await session.execute(
        query.order_by(TranscriptEntry.at, TranscriptEntry.id).limit(TRANSCRIPT_LIMIT))
    return [[conversation, channel, language, _utc(at), sender, author, text, flow, intent]
            for conversation, channel, language, at, sender, author, text, flow, intent in rows]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
