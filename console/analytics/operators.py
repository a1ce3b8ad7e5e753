"""Operators: handoffs begun in the range, the queue length over time, time to the first
operator reply (from the escalation), handling time (from the claim to the end), handoffs per
operator, and customer satisfaction (the one-tap ratings given in the range).

The queue at a moment is the handoffs escalated by then and neither claimed nor ended yet.
It is sampled every hour (every 6 hours for ranges over 31 days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from console.analytics.scope import Scope, event_rows, median_seconds, rate, series
from dialog import events
from dialog.tables import Event, Handoff

SHORT_RANGE_DAYS = 31


async def operator_figures(scope: Scope) -> dict[str, Any]:
    handoffs = (await scope.session.execute(
        scope.of_conversations(scope.within(select(
            Handoff.id, Handoff.escalated_at, Handoff.claimed_at, Handoff.first_reply_at,
            Handoff.ended_at, Handoff.operator_key, Handoff.operator_name),
            Handoff.escalated_at), Handoff.conversation_id)
    )).all()
    queue = await _queue(scope)
    ratings = await _ratings(scope)
    period = scope.period(Handoff.escalated_at)
    per_period: dict[str, int] = dict((await scope.session.execute(
        scope.of_conversations(scope.within(select(period, func.count()), Handoff.escalated_at),
                               Handoff.conversation_id).group_by(period))).all())
    return {
        "handoffs": len(handoffs),
        "claimed": sum(1 for h in handoffs if h.operator_key is not None),
        "median_seconds_to_first_reply": median_seconds(_first_replies(handoffs)),
        "median_handling_seconds": median_seconds(_handling(handoffs)),
        "queue": queue,
        "queue_peak": max((sample["waiting"] for sample in queue), default=0),
        "per_operator": _per_operator(handoffs, ratings["by_handoff"]),
        "satisfaction": ratings["summary"],
        "series": series(scope.filters.periods(), handoffs=per_period,
                         ratings=ratings["count_by_period"],
                         rating_average=ratings["average_by_period"]),
    }


def _first_replies(handoffs: Sequence[Any]) -> list[tuple[datetime, datetime]]:
    return [(h.escalated_at, h.first_reply_at) for h in handoffs if h.first_reply_at]


def _handling(handoffs: Sequence[Any]) -> list[tuple[datetime, datetime]]:
    return [(h.claimed_at, h.ended_at) for h in handoffs if h.claimed_at and h.ended_at]


def _per_operator(handoffs: Sequence[Any], ratings: dict[int, int]) -> list[dict[str, Any]]:
    mine: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}
    for handoff in handoffs:
        if handoff.operator_key is not None:
            mine[handoff.operator_key].append(handoff)
            names[handoff.operator_key] = handoff.operator_name or handoff.operator_key
    out = []
    for key, held in mine.items():
        scores = [ratings[h.id] for h in held if h.id in ratings]
        out.append({
            "operator": names[key], "key": key, "handoffs": len(held),
            "median_seconds_to_first_reply": median_seconds(_first_replies(held)),
            "median_handling_seconds": median_seconds(_handling(held)),
            "ratings": len(scores),
            "rating_average": round(sum(scores) / len(scores), 2) if scores else None,
        })
    return sorted(out, key=lambda row: (-row["handoffs"], row["operator"]))


async def _queue(scope: Scope) -> list[dict[str, Any]]:
    filters = scope.filters
    rows = (await scope.session.execute(scope.of_conversations(
        select(Handoff.escalated_at, Handoff.claimed_at, Handoff.ended_at)
        .where(Handoff.escalated_at < filters.until,
               or_(Handoff.ended_at.is_(None), Handoff.ended_at >= filters.since)),
        Handoff.conversation_id))).all()
    days = (filters.end - filters.start).days + 1
    step = timedelta(hours=1 if days <= SHORT_RANGE_DAYS else 6)
    samples, moment = [], filters.since
    while moment < filters.until:
        waiting = sum(
            1 for escalated, claimed, ended in rows
            if escalated <= moment and (claimed is None or claimed > moment)
            and (ended is None or ended > moment)
        )
        samples.append({"at": moment.isoformat(), "waiting": waiting})
        moment += step
    return samples


async def _ratings(scope: Scope) -> dict[str, Any]:
    offered = int(await scope.session.scalar(
        event_rows(scope, events.RATING_OFFERED).with_only_columns(func.count())) or 0)
    period = scope.period(Event.at)
    rows = (await scope.session.execute(
        event_rows(scope, events.RATING).with_only_columns(period, Event.value, Event.handoff_id)
    )).all()
    distribution = {str(score): 0 for score in range(1, 6)}
    by_period: dict[str, list[int]] = defaultdict(list)
    for label, score, _ in rows:
        distribution[str(score)] += 1
        by_period[label].append(score)
    scores = [score for _, score, _ in rows]
    return {
        "summary": {
            "offered": offered, "ratings": len(scores),
            "response_rate": rate(len(scores), offered),
            "average": round(sum(scores) / len(scores), 2) if scores else None,
            "distribution": distribution,
        },
        "by_handoff": {handoff: score for _, score, handoff in rows if handoff is not None},
        "count_by_period": {label: len(values) for label, values in by_period.items()},
        "average_by_period": {label: round(sum(values) / len(values), 2)
                              for label, values in by_period.items()},
    }
