"""stock subscriptions and operator tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 13:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'sku')
    )
    with op.batch_alter_table('stock_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_subscriptions_sku'), ['sku'], unique=False)

    op.create_table('operator_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operator_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_tasks_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('operator_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_tasks_order_id'))
    op.drop_table('operator_tasks')
    with op.batch_alter_table('stock_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_subscriptions_sku'))
    op.drop_table('stock_subscriptions')
