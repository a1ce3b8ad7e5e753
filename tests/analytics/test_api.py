"""GET /console/api/analytics and its exports over the real server: admins only, the same
figures as the module, CSV that a spreadsheet cannot run, and a PDF that holds the week."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import httpx
import pytest
from pypdf import PdfReader

from console.analytics.periods import Filters
from dialog.tables import TranscriptEntry
from tests.analytics import fixture
from tests.analytics.fixture import END, START, at
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

RANGE = {"start": START.isoformat(), "end": END.isoformat()}
Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """A bot whose database holds only the hand-counted history, and a formula in a chat."""
    bot = await make_bot(http={"port": free_port()}, demo={"enabled": False})
    async with bot.database.transaction() as session:
        await fixture.seed(session)
        session.add(TranscriptEntry(conversation_id=3, sender="customer", text="=1+2",
                                    at=at(9, 15, 10), flow="fallback"))
    for username, role in (("boss", "admin"), ("anna", "operator")):
        await bot.console.accounts.create(username, username.title(), "secret-pw-123", role)
    live = await serve(bot)
    yield live
    await live.stop()


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[Client]:
    opened: list[httpx.AsyncClient] = []

    async def open_client(username: str | None = "boss") -> httpx.AsyncClient:
        browser = httpx.AsyncClient(base_url=server.url)
        opened.append(browser)
        if username is not None:
            response = await browser.post("/console/api/login", json={
                "username": username, "password": "secret-pw-123"})
            assert response.status_code == 200
        return browser

    yield open_client
    for browser in opened:
        await browser.aclose()


@pytest.mark.parametrize("path", ["/console/api/analytics", "/console/api/analytics/flows.csv",
                                  "/console/api/analytics/transcripts.csv",
                                  "/console/api/analytics/report.pdf"])
async def test_only_admins_see_analytics(client: Client, path: str) -> None:
    assert (await (await client(None)).get(path)).status_code == 401
    refused = await (await client("anna")).get(path)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "only an admin may do that"}
    assert (await (await client()).get(path)).status_code == 200


async def test_the_figures_as_json_match_the_hand_counted_history(client: Client) -> None:
    boss = await client()
    got = (await boss.get("/console/api/analytics", params=RANGE)).json()
    assert got["range"]["start"] == "2026-11-02" and len(got["range"]["periods"]) == 14
    assert got["conversations"]["conversations"] == 3
    assert got["conversations"]["customer_messages"] == 10  # 9 and the formula
    assert got["confirmation"]["sent"] == 4
    telegram = (await boss.get("/console/api/analytics",
                               params={**RANGE, "channel": "telegram", "group": "week"})).json()
    assert telegram["conversations"]["customer_messages"] == 4
    assert [row["period"] for row in telegram["conversations"]["series"]] == [
        "2026-11-02", "2026-11-09"]


@pytest.mark.parametrize(("params", "reason"), [
    ({"start": "2026-11-15", "end": "2026-11-02"}, "end is before start"),
    ({"start": "2026-13-01"}, "start:"),
    ({"channel": "fax"}, "channel:"),
    ({"group": "month"}, "group:"),
])
async def test_a_bad_filter_is_refused_with_the_reason(
    client: Client, params: dict[str, str], reason: str,
) -> None:
    response = await (await client()).get("/console/api/analytics", params=params)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


async def test_each_table_exports_as_csv(client: Client) -> None:
    boss = await client()
    flows = rows(await boss.get("/console/api/analytics/flows.csv", params=RANGE))
    assert flows[0] == ["flow", "customer_messages", "conversations", "handoffs"]
    assert ["fallback", "5", "3", "1"] in flows and ["status", "1", "1", "0"] in flows
    reasons = rows(await boss.get("/console/api/analytics/escalation_reasons.csv", params=RANGE))
    assert reasons == [["reason", "count"], ["confirmation_unanswered", "1"],
                       ["customer_asked", "1"], ["not_understood", "1"]]
    operators = rows(await boss.get("/console/api/analytics/operators.csv", params=RANGE))
    assert operators[1] == ["Anna", "1", "360", "900", "1", "5.0"]
    summary = rows(await boss.get("/console/api/analytics/summary.csv", params=RANGE))
    assert ["confirmation", "median_seconds_to_confirm", "2700"] in summary
    assert ["self_service", "overdue_at_end_amount_EUR", "30.0"] in summary
    days = rows(await boss.get("/console/api/analytics/conversations.csv", params=RANGE))
    assert len(days) == 1 + 14
    missing = await boss.get("/console/api/analytics/secrets.csv")
    assert missing.status_code == 422


async def test_transcripts_export_filtered_and_safe_from_formulas(client: Client) -> None:
    boss = await client()
    email = rows(await boss.get("/console/api/analytics/transcripts.csv",
                                params={**RANGE, "channel": "email"}))
    assert email[0] == ["conversation_id", "channel", "language", "at", "from", "author",
                        "text", "flow", "intent"]
    assert [row[6] for row in email[1:]] == ["...", "???", "'=1+2"]
    assert {row[1] for row in email[1:]} == {"email"}
    everything = rows(await boss.get("/console/api/analytics/transcripts.csv", params=RANGE))
    assert len(everything) == 1 + 11  # 10 from customers, 1 from the bot; D is outside


async def test_the_weekly_report_is_a_pdf_of_that_week(client: Client) -> None:
    boss = await client()
    response = await boss.get("/console/api/analytics/report.pdf", params={"week": "2026-11-09"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Weekly report 2026-11-09 to 2026-11-15" in text
    assert "Orders sent for confirmation" in text
    assert "Boris" in text and "customer_asked" in text
    assert "Anna" not in text  # her handoff was the week before
    tuesday = await boss.get("/console/api/analytics/report.pdf", params={"week": "2026-11-10"})
    assert tuesday.status_code == 422


async def test_each_figure_leads_to_its_conversations_and_compares_with_the_period_before(
    client: Client, server: LiveServer,
) -> None:
    boss = await client()
    path = "/console/api/analytics/conversations"
    everyone = (await boss.get(path, params=RANGE)).json()
    figures = (await boss.get("/console/api/analytics", params=RANGE)).json()
    assert everyone["total"] == figures["conversations"]["conversations"] == 3
    assert [c["channel"] for c in everyone["conversations"]] == ["telegram", "email", "webchat"]
    first = everyone["conversations"][0]
    assert first["console"] == f"/console#conversation-{first['id']}"
    assert first["customer_said"]  # the customer's last words in the range

    escalated = (await boss.get(path, params={**RANGE, "escalated": "true"})).json()
    assert escalated["total"] == figures["conversations"]["escalated"] == 2
    asked = (await boss.get(path, params={**RANGE, "reason": "customer_asked"})).json()
    assert asked["total"] == 1
    cancel = (await boss.get(path, params={**RANGE, "intent": "cancel_order"})).json()
    assert [c["channel"] for c in cancel["conversations"]] == ["telegram"]  # Piotr's 2 fallbacks
    polish = (await boss.get(path, params={**RANGE, "language": "pl"})).json()
    assert polish["total"] == 1
    refused = await boss.get(path, params={**RANGE, "escalated": "maybe"})
    assert refused.status_code == 422 and "escalated" in refused.json()["detail"]
    assert (await (await client("anna")).get(path)).status_code == 403

    # the 14 days before, with the same filters, beside each single figure
    previous = figures["previous"]
    assert (previous["range"]["start"], previous["range"]["end"]) == ("2026-10-19", "2026-11-01")
    before = await server.bot.console.analytics.figures(Filters(date(2026, 10, 19),
                                                                date(2026, 11, 1)))
    assert previous["conversations"]["conversations"] == before["conversations"]["conversations"]
    assert previous["operators"]["satisfaction"]["average"] == (
        before["operators"]["satisfaction"]["average"])
    assert "series" not in previous["conversations"]  # single values only
