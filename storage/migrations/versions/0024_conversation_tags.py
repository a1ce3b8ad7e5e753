"""conversation tags: operators' free tags on a conversation, shown in the queue and filtered by

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 22:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'tag')
    )
    with op.batch_alter_table('conversation_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_tags_tag'), ['tag'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_tags_tag'))
    op.drop_table('conversation_tags')
