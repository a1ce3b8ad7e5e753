"""conversations.fence: the fencing token of the last turn that wrote the conversation

With several processes, a conversation's Redis lock is a lease (coordination/redis.py); each
hold has a fencing token greater than every earlier one. A turn writes its token here as its
first statement, and a turn whose token is older than the stored one (its process was
stalled past its lease, another turn ran meanwhile) is refused and run again.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch_alter_table: on SQLite it would copy conversations into a new table, and the
    # ON DELETE CASCADE of the old one's rows would empty the transcript. Both databases add
    # a nullable column in place.
    op.add_column('conversations', sa.Column('fence', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE conversations DROP COLUMN fence")
