"""Each figure on the hand-counted history of fixture.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from console.analytics.figures import Analytics
from console.analytics.periods import BadRange, Filters
from tests.analytics.fixture import END, START


async def figures(analytics: Analytics, **filters: Any) -> dict[str, Any]:
    return await analytics.figures(Filters(START, END, **filters))


def column(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """{period: value} of the non-zero values of one series column."""
    return {row["period"]: row[name] for row in rows if row[name]}


async def test_conversations(analytics: Analytics) -> None:
    got = (await figures(analytics))["conversations"]
    assert {k: got[k] for k in ("conversations", "customer_messages", "automated", "escalated",
                                "fallbacks")} == {
        "conversations": 3, "customer_messages": 9, "automated": 1, "escalated": 2,
        "fallbacks": 4}
    assert (got["automation_rate"], got["escalation_rate"]) == (0.3333, 0.6667)
    assert got["misunderstanding_rate"] == 1.3333
    assert got["escalation_reasons"] == [
        {"reason": "confirmation_unanswered", "count": 1},
        {"reason": "customer_asked", "count": 1},
        {"reason": "not_understood", "count": 1},
    ]
    assert got["misunderstood_intents"] == [
        {"intent": "cancel_order", "count": 2, "examples": ["nie chce", "anuluj to"]},
        {"intent": "order_status", "count": 1, "examples": ["wheres my stuff"]},
        {"intent": "unknown", "count": 1, "examples": ["???"]},
    ]


async def test_conversations_per_day_and_week(analytics: Analytics) -> None:
    days = (await figures(analytics))["conversations"]["series"]
    assert len(days) == 14
    assert column(days, "conversations") == {
        "2026-11-02": 1, "2026-11-03": 2, "2026-11-09": 1, "2026-11-10": 1}
    assert column(days, "customer_messages") == {
        "2026-11-02": 2, "2026-11-03": 4, "2026-11-09": 2, "2026-11-10": 1}
    assert column(days, "fallbacks") == {"2026-11-02": 1, "2026-11-03": 2, "2026-11-09": 1}
    assert column(days, "handoffs") == {"2026-11-03": 1, "2026-11-09": 1, "2026-11-14": 1}
    weeks = (await figures(analytics, group="week"))["conversations"]["series"]
    assert weeks == [
        {"period": "2026-11-02", "conversations": 2, "customer_messages": 6, "fallbacks": 3,
         "handoffs": 1},
        {"period": "2026-11-09", "conversations": 2, "customer_messages": 3, "fallbacks": 1,
         "handoffs": 2},
    ]


async def test_conversations_per_channel_language_and_flow(analytics: Analytics) -> None:
    got = (await figures(analytics))["conversations"]
    assert got["by_channel"] == [
        {"channel": "email", "conversations": 1, "customer_messages": 2, "escalated": 1,
         "automation_rate": 0.0},
        {"channel": "telegram", "conversations": 1, "customer_messages": 4, "escalated": 1,
         "automation_rate": 0.0},
        {"channel": "webchat", "conversations": 1, "customer_messages": 3, "escalated": 0,
         "automation_rate": 1.0},
    ]
    assert got["by_language"] == [
        {"language": "en", "conversations": 2, "customer_messages": 5, "escalated": 1,
         "automation_rate": 0.5},
        {"language": "pl", "conversations": 1, "customer_messages": 4, "escalated": 1,
         "automation_rate": 0.0},
    ]
    assert [(r["flow"], r["customer_messages"], r["conversations"], r["handoffs"])
            for r in got["by_flow"]] == [
        ("confirm", 1, 1, 0), ("fallback", 4, 3, 1), ("handoff", 1, 1, 1), ("none", 0, 0, 1),
        ("operator", 1, 1, 0), ("smalltalk", 1, 1, 0), ("status", 1, 1, 0)]


async def test_filters_by_channel_and_language(analytics: Analytics) -> None:
    telegram = (await figures(analytics, channel="telegram"))["conversations"]
    assert (telegram["conversations"], telegram["customer_messages"], telegram["escalated"]) \
        == (1, 4, 1)
    assert telegram["escalation_reasons"] == [{"reason": "not_understood", "count": 1}]
    english = (await figures(analytics, language="en"))["conversations"]
    assert (english["conversations"], english["customer_messages"], english["escalated"],
            english["automated"]) == (2, 5, 1, 1)
    assert english["escalation_reasons"] == [
        {"reason": "confirmation_unanswered", "count": 1},
        {"reason": "customer_asked", "count": 1}]
    nobody = (await figures(analytics, channel="slack"))["conversations"]
    assert (nobody["conversations"], nobody["automation_rate"]) == (0, None)


async def test_order_confirmation(analytics: Analytics) -> None:
    got = (await figures(analytics))["confirmation"]
    assert {k: v for k, v in got.items() if k != "series"} == {
        "sent": 4, "confirmed": 2, "declined": 1, "unanswered": 1,
        "median_seconds_to_confirm": 2700, "alternatives_accepted": 1,
        "cross_sell_accepted": 1, "vouchers_used": 1}
    assert column(got["series"], "sent") == {
        "2026-11-04": 1, "2026-11-05": 1, "2026-11-06": 1, "2026-11-12": 1}
    webchat = (await figures(analytics, channel="webchat"))["confirmation"]
    assert {k: v for k, v in webchat.items() if k != "series"} == {
        "sent": 2, "confirmed": 1, "declined": 0, "unanswered": 1,
        "median_seconds_to_confirm": 1800, "alternatives_accepted": 0,
        "cross_sell_accepted": 1, "vouchers_used": 1}


async def test_self_service(analytics: Analytics) -> None:
    got = (await figures(analytics))["self_service"]
    assert {k: v for k, v in got.items() if k != "series"} == {
        "status_answered": 1, "cancellations": 1, "delivery_changes": 1, "returns_opened": 1,
        "back_in_stock_sent": 2, "back_in_stock_converted": 1,
        "payment_reminders_sent": 3, "orders_reminded": 2, "paid_after_reminder": 1,
        "overdue_at_start": {"orders": 1, "amount_minor": {"EUR": 7000}},
        "overdue_at_end": {"orders": 1, "amount_minor": {"EUR": 3000}},
    }
    assert column(got["series"], "cancellations") == {"2026-11-10": 1}
    polish = (await figures(analytics, language="pl"))["self_service"]
    assert (polish["status_answered"], polish["payment_reminders_sent"],
            polish["paid_after_reminder"], polish["back_in_stock_sent"]) == (0, 2, 1, 0)


async def test_operators(analytics: Analytics) -> None:
    got = (await figures(analytics))["operators"]
    assert (got["handoffs"], got["claimed"], got["median_seconds_to_first_reply"],
            got["median_handling_seconds"]) == (3, 2, 1380, 2250)
    assert got["per_operator"] == [
        {"operator": "Anna", "key": "console:1", "handoffs": 1,
         "median_seconds_to_first_reply": 120 + 240, "median_handling_seconds": 900,
         "ratings": 1, "rating_average": 5.0},
        {"operator": "Boris", "key": "console:2", "handoffs": 1,
         "median_seconds_to_first_reply": 2400, "median_handling_seconds": 3600,
         "ratings": 1, "rating_average": 2.0},
    ]
    assert got["satisfaction"] == {
        "offered": 3, "ratings": 3, "response_rate": 1.0, "average": 3.67,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    assert column(got["series"], "rating_average") == {"2026-11-03": 4.5, "2026-11-09": 2.0}


async def test_queue_length_over_time(analytics: Analytics) -> None:
    queue = (await figures(analytics))["operators"]["queue"]
    assert len(queue) == 14 * 24  # hourly
    waiting = {sample["at"]: sample["waiting"] for sample in queue if sample["waiting"]}
    assert waiting["2026-11-09T15:00:00+00:00"] == 1  # Boris claimed it at 15:30
    assert sum(waiting.values()) == 1 + 15 + 24  # and E waits from the 14th, 09:00, on
    assert (await figures(analytics))["operators"]["queue_peak"] == 1


def test_a_range_must_be_the_right_way_round_and_at_most_a_year() -> None:
    with pytest.raises(BadRange, match="before start"):
        Filters(END, START)
    with pytest.raises(BadRange, match="at most 366 days"):
        Filters(START.replace(year=2024), END)
