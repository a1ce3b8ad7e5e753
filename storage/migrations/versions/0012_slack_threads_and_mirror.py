"""slack operators channel: threads and mirror ledger

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 18:38:29.731911
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_threads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('summary_upto', sa.Integer(), nullable=False),
    sa.Column('mirrored_upto', sa.Integer(), nullable=False),
    sa.Column('shown', sa.String(length=100), nullable=True),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('busy_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('busy_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handoff_id')
    )
    with op.batch_alter_table('slack_threads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_threads_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('slack_mirror',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('reply', sa.String(length=100), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['slack_threads.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reply'),
    sa.UniqueConstraint('transcript_id')
    )
    with op.batch_alter_table('slack_mirror', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_mirror_thread_id'), ['thread_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('slack_mirror', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_mirror_thread_id'))

    op.drop_table('slack_mirror')
    with op.batch_alter_table('slack_threads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_threads_conversation_id'))

    op.drop_table('slack_threads')
