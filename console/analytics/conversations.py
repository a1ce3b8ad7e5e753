"""Conversations, customer messages, automation and escalation, misunderstandings; per
period, channel, language and flow.

A conversation counts in a range (or a period) when its customer wrote in it then. It is
escalated when a handoff to a person began in the range, and automated otherwise, so the two
add up to the conversations. A fallback is a customer message that no flow understood; the
misunderstanding rate is fallbacks per conversation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select

from console.analytics.scope import Scope, rate, series
from dialog.tables import Conversation, Handoff, TranscriptEntry

EXAMPLES = 3  # texts shown for each misunderstood intent
INTENTS_SHOWN = 10
FALLBACK = "fallback"


async def conversation_figures(scope: Scope) -> dict[str, Any]:
    session = scope.session
    customer = customer_messages(scope)
    talked = customer.with_only_columns(TranscriptEntry.conversation_id).distinct()
    conversations = int(await session.scalar(
        select(func.count()).select_from(talked.subquery())) or 0)
    messages = int(await session.scalar(customer.with_only_columns(func.count())) or 0)
    handed = handoffs_in_range(scope).with_only_columns(Handoff.conversation_id).distinct()
    escalated = int(await session.scalar(
        select(func.count()).select_from(
            talked.where(TranscriptEntry.conversation_id.in_(handed)).subquery())) or 0)
    fallbacks = int(await session.scalar(
        customer.with_only_columns(func.count()).where(TranscriptEntry.flow == FALLBACK)) or 0)
    return {
        "conversations": conversations,
        "customer_messages": messages,
        "automated": conversations - escalated,
        "automation_rate": rate(conversations - escalated, conversations),
        "escalated": escalated,
        "escalation_rate": rate(escalated, conversations),
        "escalation_reasons": await _reasons(scope),
        "fallbacks": fallbacks,
        "misunderstanding_rate": rate(fallbacks, conversations),
        "misunderstood_intents": await _misunderstood(scope),
        "series": await _series(scope),
        "by_channel": await _by(scope, Conversation.channel, "channel"),
        "by_language": await _by(scope, Conversation.language, "language"),
        "by_flow": await _by_flow(scope),
    }


def customer_messages(scope: Scope) -> Any:
    query = select(TranscriptEntry.id).where(TranscriptEntry.sender == "customer")
    return scope.of_conversations(scope.within(query, TranscriptEntry.at),
                                  TranscriptEntry.conversation_id)


def handoffs_in_range(scope: Scope) -> Any:
    return scope.of_conversations(scope.within(select(Handoff.id), Handoff.escalated_at),
                                  Handoff.conversation_id)


async def _reasons(scope: Scope) -> list[dict[str, Any]]:
    rows = await scope.session.execute(
        handoffs_in_range(scope).with_only_columns(Handoff.reason, func.count())
        .group_by(Handoff.reason).order_by(func.count().desc(), Handoff.reason))
    return [{"reason": reason, "count": count} for reason, count in rows]


async def _misunderstood(scope: Scope) -> list[dict[str, Any]]:
    """The intents the classifier guessed for messages no flow understood, most first, with
    the newest texts as examples (to add to the training data)."""
    fallback = customer_messages(scope).where(TranscriptEntry.flow == FALLBACK)
    intent = func.coalesce(TranscriptEntry.intent, "unknown")
    counts = (await scope.session.execute(
        fallback.with_only_columns(intent, func.count()).group_by(intent)
        .order_by(func.count().desc(), intent).limit(INTENTS_SHOWN))).all()
    shown = [name for name, _ in counts]
    examples: dict[str, list[str]] = defaultdict(list)
    if shown:
        texts = await scope.session.execute(
            fallback.with_only_columns(intent, TranscriptEntry.text)
            .where(intent.in_(shown)).order_by(TranscriptEntry.id.desc()))
        for name, text in texts:
            if len(examples[name]) < EXAMPLES and text not in examples[name]:
                examples[name].append(text)
    return [{"intent": name, "count": count, "examples": examples[name]}
            for name, count in counts]


async def _series(scope: Scope) -> list[dict[str, Any]]:
    customer = customer_messages(scope)
    period = scope.period(TranscriptEntry.at)
    rows = (await scope.session.execute(
        customer.with_only_columns(
            period, func.count(distinct(TranscriptEntry.conversation_id)), func.count(),
            func.count(TranscriptEntry.flow).filter(TranscriptEntry.flow == FALLBACK))
        .group_by(period))).all()
    handoff_period = scope.period(Handoff.escalated_at)
    handoffs = dict((await scope.session.execute(
        handoffs_in_range(scope).with_only_columns(handoff_period, func.count())
        .group_by(handoff_period))).all())
    return series(
        scope.filters.periods(),
        conversations={p: c for p, c, _, _ in rows},
        customer_messages={p: m for p, _, m, _ in rows},
        fallbacks={p: f for p, _, _, f in rows},
        handoffs=handoffs,
    )


async def _by(scope: Scope, column: Any, name: str) -> list[dict[str, Any]]:
    """Conversations, messages and escalated conversations per channel or language."""
    customer = customer_messages(scope)
    if scope.filters.channel is None and scope.filters.language is None:
        customer = customer.join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
    rows = (await scope.session.execute(
        customer.with_only_columns(column, func.count(distinct(TranscriptEntry.conversation_id)),
                                   func.count())
        .group_by(column).order_by(column))).all()
    handed = handoffs_in_range(scope).with_only_columns(Handoff.conversation_id)
    escalated = dict((await scope.session.execute(
        customer.with_only_columns(column, func.count(distinct(TranscriptEntry.conversation_id)))
        .where(TranscriptEntry.conversation_id.in_(handed)).group_by(column))).all())
    out = []
    for value, conversations, messages in rows:
        handed_over = escalated.get(value, 0)
        out.append({name: value, "conversations": conversations, "customer_messages": messages,
                    "escalated": handed_over,
                    "automation_rate": rate(conversations - handed_over, conversations)})
    return out


async def _by_flow(scope: Scope) -> list[dict[str, Any]]:
    """Per flow that answered: customer messages, conversations, handoffs it began."""
    flow = func.coalesce(TranscriptEntry.flow, "unknown")
    rows = (await scope.session.execute(
        customer_messages(scope).with_only_columns(
            flow, func.count(), func.count(distinct(TranscriptEntry.conversation_id)))
        .group_by(flow))).all()
    handoff_flow = func.coalesce(Handoff.flow, "none")
    handoffs = dict((await scope.session.execute(
        handoffs_in_range(scope).with_only_columns(handoff_flow, func.count())
        .group_by(handoff_flow))).all())
    names = sorted({name for name, _, _ in rows} | set(handoffs))
    counted = {name: (messages, conversations) for name, messages, conversations in rows}
    return [{"flow": name, "customer_messages": counted.get(name, (0, 0))[0],
             "conversations": counted.get(name, (0, 0))[1], "handoffs": handoffs.get(name, 0)}
            for name in names]
