"""order watchers: conversations in which an order was proven

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 15:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('order_watchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'conversation_id')
    )
    with op.batch_alter_table('order_watchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_watchers_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_watchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_watchers_order_id'))
    op.drop_table('order_watchers')
