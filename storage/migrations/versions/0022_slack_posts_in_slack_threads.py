"""slack posts in slack_threads only: the handoffs lose their Slack columns

The escalation's post in the Slack operators channel was written twice: to handoffs
(slack_channel, slack_ts) and to slack_threads (channel, ts), which channels/slack reads. A
handoff whose post has no thread row (or a thread row without its ts) gets it there first,
so that no post is forgotten (nor posted again), then the columns go.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 20:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A thread row without its post's ts: the handoff knows it.
    op.execute(
        "UPDATE slack_threads SET ts = (SELECT h.slack_ts FROM handoffs h"
        " WHERE h.id = slack_threads.handoff_id)"
        " WHERE ts IS NULL AND EXISTS (SELECT 1 FROM handoffs h"
        " WHERE h.id = slack_threads.handoff_id AND h.slack_ts IS NOT NULL)"
    )
    # A post with no thread row: the row, up to date with the transcript as it is (nothing
    # mirrored again), settled if the handoff has ended.
    op.execute(
        "INSERT INTO slack_threads (handoff_id, conversation_id, channel, ts, summary_upto,"
        " mirrored_upto, settled, created_at)"
        " SELECT h.id, h.conversation_id, h.slack_channel, h.slack_ts,"
        " COALESCE((SELECT MAX(t.id) FROM transcript t"
        "  WHERE t.conversation_id = h.conversation_id), 0),"
        " COALESCE((SELECT MAX(t.id) FROM transcript t"
        "  WHERE t.conversation_id = h.conversation_id), 0),"
        " h.ended_at IS NOT NULL, h.escalated_at"
        " FROM handoffs h"
        " WHERE h.slack_ts IS NOT NULL AND h.slack_channel IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM slack_threads s WHERE s.handoff_id = h.id)"
    )
    # Not batch_alter_table: on SQLite it copies handoffs into a new table and drops the old
    # one, whose rows' ON DELETE CASCADE would empty slack_threads. SQLite >= 3.35 and
    # PostgreSQL both drop a column in place.
    op.execute("ALTER TABLE handoffs DROP COLUMN slack_ts")
    op.execute("ALTER TABLE handoffs DROP COLUMN slack_channel")


def downgrade() -> None:
    op.add_column('handoffs', sa.Column('slack_channel', sa.String(length=64), nullable=True))
    op.add_column('handoffs', sa.Column('slack_ts', sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE handoffs SET slack_channel = (SELECT s.channel FROM slack_threads s"
        " WHERE s.handoff_id = handoffs.id), slack_ts = (SELECT s.ts FROM slack_threads s"
        " WHERE s.handoff_id = handoffs.id)"
    )
