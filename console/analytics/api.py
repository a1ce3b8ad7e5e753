"""The analytics endpoints of the console API (admin only; docs/console.md, Analytics):

    GET /console/dashboard                         the page (console/static/dashboard.*)
    GET /console/api/analytics                     the figures as JSON
    GET /console/api/analytics/{table}.csv         one of the dashboard's tables
    GET /console/api/analytics/conversations       the conversations behind a figure
                                                   (?escalated=true, reason=, intent=)
    GET /console/api/analytics/transcripts.csv     the messages of the range
    GET /console/api/analytics/report.pdf          the weekly report (?week=a Monday)

All take start, end (YYYY-MM-DD, both included; default the last 28 days), channel, language
and group (day | week), and refuse a bad value with 422 and the reason.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse, JSONResponse

from console.analytics.csv_export import TRANSCRIPT_COLUMNS, table_csv, to_csv, transcript_rows
from console.analytics.periods import BadRange, Filters, default_range
from console.analytics.report import last_full_week, weekly_report
from console.analytics.tables import TABLES
from storage.clock import utcnow

if TYPE_CHECKING:
    from console.app import OperatorConsole

Channel = Literal["webchat", "telegram", "slack", "email"]
LanguageFilter = Literal["en", "pl", "ru"]
Group = Literal["day", "week"]
if TYPE_CHECKING:
    TableName = str  # a key of TABLES: mypy cannot read a Literal built at run time
else:
    TableName = Literal[tuple(TABLES)]  # FastAPI refuses other names with 422
DASHBOARD = Path(__file__).resolve().parent.parent / "static" / "dashboard.html"


def add_analytics_routes(router: APIRouter, console: "OperatorConsole", admin: Any) -> None:
    """Register the endpoints on the console's router; `admin` is its admin dependency."""

    def filters(start: Date | None, end: Date | None, channel: Channel | None,
                language: LanguageFilter | None, group: Group = "day") -> Filters:
        first, last = default_range(utcnow().date())
        try:
            return Filters(start or (first if end is None else end - timedelta(days=27)),
                           end or last, channel, language, group)
        except BadRange as bad:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(bad)) from None

    @router.get("/dashboard", include_in_schema=False)
    async def dashboard() -> FileResponse:
        """The page; it asks the API for everything (and shows who may see it)."""
        return FileResponse(DASHBOARD, media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @router.get("/api/analytics")
    async def analytics(
        me: admin, start: Date | None = None, end: Date | None = None,
        channel: Channel | None = None, language: LanguageFilter | None = None,
        group: Group = "day",
    ) -> JSONResponse:
        chosen = filters(start, end, channel, language, group)
        return JSONResponse(await console.analytics.figures(chosen, compare=True),
                            headers={"Cache-Control": "no-store"})

    @router.get("/api/analytics/conversations")
    async def conversations(
        me: admin, start: Date | None = None, end: Date | None = None,
        channel: Channel | None = None, language: LanguageFilter | None = None,
        escalated: bool = False,
        reason: Annotated[str | None, Query(max_length=64)] = None,
        intent: Annotated[str | None, Query(max_length=64,
                                            description="guessed for a fallback")] = None,
    ) -> JSONResponse:
        """The conversations behind a figure (drill-down), newest first."""
        chosen = filters(start, end, channel, language)
        found = await console.analytics.drill_down(chosen, escalated=escalated, reason=reason,
                                                   fallback_intent=intent)
        return JSONResponse(found, headers={"Cache-Control": "no-store"})

    @router.get("/api/analytics/transcripts.csv")
    async def transcripts(
        me: admin, start: Date | None = None, end: Date | None = None,
        channel: Channel | None = None, language: LanguageFilter | None = None,
    ) -> Response:
        chosen = filters(start, end, channel, language)
        async with console.database.transaction() as session:
            rows = await transcript_rows(session, chosen)
        return _download(to_csv(TRANSCRIPT_COLUMNS, rows), _name("transcripts", chosen, "csv"),
                         "text/csv; charset=utf-8")

    @router.get("/api/analytics/report.pdf")
    async def report(
        me: admin, week: Annotated[Date | None, Query(description="its Monday")] = None,
        channel: Channel | None = None, language: LanguageFilter | None = None,
    ) -> Response:
        monday = week or last_full_week(utcnow().date())
        if monday.weekday() != 0:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "week: give its Monday")
        chosen = filters(monday, monday + timedelta(days=6), channel, language)
        figures = await console.analytics.figures(chosen)
        content = weekly_report(console.settings.shop.name, figures)
        return _download(content, f"report-{monday.isoformat()}.pdf", "application/pdf")

    @router.get("/api/analytics/{table}.csv")
    async def table(
        table: TableName, me: admin, start: Date | None = None, end: Date | None = None,
        channel: Channel | None = None, language: LanguageFilter | None = None,
        group: Group = "day",
    ) -> Response:
        chosen = filters(start, end, channel, language, group)
        figures = await console.analytics.figures(chosen)
        return _download(table_csv(TABLES[table](figures)), _name(table, chosen, "csv"),
                         "text/csv; charset=utf-8")


def _name(what: str, chosen: Filters, extension: str) -> str:
    return f"{what}-{chosen.start.isoformat()}-{chosen.end.isoformat()}.{extension}"


def _download(content: str | bytes, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
