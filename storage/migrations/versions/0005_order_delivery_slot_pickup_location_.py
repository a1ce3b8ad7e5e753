"""order delivery slot, pickup location, payment due date, voucher, refunds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:46:43.921147
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('delivery_slot', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('pickup_location', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payment_due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('voucher_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('discount_minor', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('refunded_minor', sa.Integer(), server_default='0', nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('refunded_minor')
        batch_op.drop_column('discount_minor')
        batch_op.drop_column('voucher_code')
        batch_op.drop_column('payment_due_date')
        batch_op.drop_column('pickup_location')
        batch_op.drop_column('delivery_slot')
        batch_op.drop_column('delivery_date')


