"""operator tasks: what the task is about (detail), and who did it (done_by)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:20:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('operator_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('done_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('operator_tasks', schema=None) as batch_op:
        batch_op.drop_column('done_by')
        batch_op.drop_column('detail')
