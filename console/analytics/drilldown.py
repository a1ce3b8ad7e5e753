"""The conversations behind a figure of the dashboard, so that an admin can read them: those
whose customer wrote in the range (the "Conversations" figure), optionally only those handed to
a person (for a reason), or those with a message no flow understood (for a guessed intent).

The same definitions as console/analytics/conversations.py, newest first, at most LIMIT."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from console.analytics.conversations import FALLBACK, customer_messages, handoffs_in_range
from console.analytics.scope import Scope
from dialog.tables import Conversation, Handoff, TranscriptEntry

LIMIT = 100
PREVIEW = 200  # characters of the customer's last words in the range


async def drill_down(scope: Scope, *, escalated: bool = False, reason: str | None = None,
                     fallback_intent: str | None = None) -> dict[str, Any]:
    messages = customer_messages(scope)
    if fallback_intent is not None:
        messages = messages.where(TranscriptEntry.flow == FALLBACK,
                                  func.coalesce(TranscriptEntry.intent, "unknown")
                                  == fallback_intent)
    if escalated or reason is not None:
        handed = handoffs_in_range(scope).with_only_columns(Handoff.conversation_id)
        if reason is not None:
            handed = handed.where(Handoff.reason == reason)
        messages = messages.where(TranscriptEntry.conversation_id.in_(handed))
    newest = (messages.with_only_columns(TranscriptEntry.conversation_id,
                                         func.max(TranscriptEntry.id).label("last_id"))
              .group_by(TranscriptEntry.conversation_id).subquery())
    total = int(await scope.session.scalar(select(func.count()).select_from(newest)) or 0)
    rows = await scope.session.execute(
        select(Conversation.id, Conversation.channel, Conversation.language, Conversation.status,
               TranscriptEntry.text, TranscriptEntry.at)
        .join(newest, newest.c.conversation_id == Conversation.id)
        .join(TranscriptEntry, TranscriptEntry.id == newest.c.last_id)
        .order_by(TranscriptEntry.at.desc(), Conversation.id.desc()).limit(LIMIT))
    return {
        "total": total,
        "conversations": [
            {"id": id, "channel": channel, "language": language, "status": status,
             "customer_said": (text or "")[:PREVIEW], "at": at.isoformat(),
             "console": f"/console#conversation-{id}"}
            for id, channel, language, status, text, at in rows],
    }
