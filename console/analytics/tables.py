"""The dashboard's tables as rows and columns, for CSV (and the PDF report): one table per
name, each taken from the figures' JSON (figures.py) so that both always agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]


def _rows(path: tuple[str, str], columns: list[str]) -> Callable[[dict[str, Any]], Table]:
    section, key = path

    def table(figures: dict[str, Any]) -> Table:
        return Table(columns, [[row.get(c) for c in columns] for row in figures[section][key]])

    return table


def _summary(figures: dict[str, Any]) -> Table:
    """Every single-number figure: section, figure, value."""
    rows: list[list[Any]] = []
    for section in ("conversations", "confirmation", "self_service", "operators"):
        for name, value in figures[section].items():
            if isinstance(value, (int, float)) or value is None:
                rows.append([section, name, value])
            elif isinstance(value, dict) and "orders" in value:  # overdue receivables
                rows.append([section, f"{name}_orders", value["orders"]])
                for currency, amount in value["amount_minor"].items():
                    rows.append([section, f"{name}_amount_{currency}", amount / 100])
    satisfaction = figures["operators"]["satisfaction"]
    for name in ("offered", "ratings", "response_rate", "average"):
        rows.append(["satisfaction", name, satisfaction[name]])
    for score, count in satisfaction["distribution"].items():
        rows.append(["satisfaction", f"rated_{score}", count])
    return Table(["section", "figure", "value"], rows)


def _misunderstood(figures: dict[str, Any]) -> Table:
    return Table(["intent", "count", "examples"], [
        [row["intent"], row["count"], " | ".join(row["examples"])]
        for row in figures["conversations"]["misunderstood_intents"]])


TABLES: dict[str, Callable[[dict[str, Any]], Table]] = {
    "summary": _summary,
    "conversations": _rows(("conversations", "series"), [
        "period", "conversations", "customer_messages", "fallbacks", "handoffs"]),
    "channels": _rows(("conversations", "by_channel"), [
        "channel", "conversations", "customer_messages", "escalated", "automation_rate"]),
    "languages": _rows(("conversations", "by_language"), [
        "language", "conversations", "customer_messages", "escalated", "automation_rate"]),
    "flows": _rows(("conversations", "by_flow"), [
        "flow", "customer_messages", "conversations", "handoffs"]),
    "escalation_reasons": _rows(("conversations", "escalation_reasons"), ["reason", "count"]),
    "misunderstood": _misunderstood,
    "confirmation": _rows(("confirmation", "series"), ["period", "sent"]),
    "self_service": _rows(("self_service", "series"), [
        "period", "status_answered", "cancellations", "delivery_changes", "returns_opened"]),
    "operators": _rows(("operators", "per_operator"), [
        "operator", "handoffs", "median_seconds_to_first_reply", "median_handling_seconds",
        "ratings", "rating_average"]),
    "operators_daily": _rows(("operators", "series"), [
        "period", "handoffs", "ratings", "rating_average"]),
    "queue": _rows(("operators", "queue"), ["at", "waiting"]),
}
