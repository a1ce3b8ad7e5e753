"""Slack's tables: the thread each escalated conversation has in the operators' channel,
and the mirror of what was written there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.clock import utcnow


class SlackThread(Base):
    __tablename__ = "slack_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str | None] = mapped_column(String(32))  # the post; None until it is posted
    summary_upto: Mapped[int] = mapped_column(default=0)  # the post sums up lines up to this id
    mirrored_upto: Mapped[int] = mapped_column(default=0)  # the thread has lines up to this id
    shown: Mapped[str | None] = mapped_column(String(100))  # PostState.key the post shows
    settled: Mapped[bool] = mapped_column(default=False)  # ended, shown so, nothing left to do
    busy_until: Mapped[datetime | None] = mapped_column()
    busy_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlackMirror(Base):
    __tablename__ = "slack_mirror"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("slack_threads.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), unique=True)
    # An operator's reply: "<channel>:<ts>" of their message (None for lines we mirrored)
    reply: Mapped[str | None] = mapped_column(String(100), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
