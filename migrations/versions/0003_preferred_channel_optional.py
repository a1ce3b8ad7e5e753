"""preferred channel optional: none means the channel the customer used last

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.alter_column('preferred_channel', existing_type=sa.String(length=20),
                           nullable=True)
    # Nobody chose "webchat" before: it was only the default.
    op.execute("UPDATE customers SET preferred_channel = NULL WHERE preferred_channel = 'webchat'")


def downgrade() -> None:
    op.execute("UPDATE customers SET preferred_channel = 'webchat' WHERE preferred_channel IS NULL")
    with op.batch_alter_table('customers') as batch:
        batch.alter_column('preferred_channel', existing_type=sa.String(length=20),
                           nullable=False)
