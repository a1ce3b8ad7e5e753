"""preferred channel optional: "" means the channel the customer used last

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:40:00
"""
from __future__ import annotations

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nobody chose "webchat" before: it was only the default. (No DDL: on SQLite changing
    # the column would rebuild the customers table, which its foreign keys refuse.)
    op.execute("UPDATE customers SET preferred_channel = '' WHERE preferred_channel = 'webchat'")


def downgrade() -> None:
    op.execute("UPDATE customers SET preferred_channel = 'webchat' WHERE preferred_channel = ''")
