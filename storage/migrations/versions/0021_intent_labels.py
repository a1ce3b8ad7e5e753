"""intent labels: what operators marked a customer's message as meaning, for the NLU to learn

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:20:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intent_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=False),
    sa.Column('guessed', sa.String(length=32), nullable=True),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('labelled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transcript_id')
    )
    with op.batch_alter_table('intent_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intent_labels_conversation_id'),
                              ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_labels_labelled_at'), ['labelled_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intent_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intent_labels_labelled_at'))
        batch_op.drop_index(batch_op.f('ix_intent_labels_conversation_id'))
    op.drop_table('intent_labels')
