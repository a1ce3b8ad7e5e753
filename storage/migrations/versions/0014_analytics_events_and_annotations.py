"""analytics: events, the flow and intent of each customer message, a handoff's flow

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=True),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index('ix_events_conversation', ['conversation_id'], unique=False)

    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('intent', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_transcript_at', ['at'], unique=False)

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('flow')

    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_index('ix_transcript_at')
        batch_op.drop_column('intent')
        batch_op.drop_column('flow')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_conversation')
        batch_op.drop_index('ix_events_kind_at')

    op.drop_table('events')
