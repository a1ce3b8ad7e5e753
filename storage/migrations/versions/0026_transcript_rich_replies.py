"""transcript.rich: a reply's optional structure for rich clients (an order card, documents)

The web chat draws an order card and document buttons from it; every other channel reads the
text, which still says all of it. Nullable: older replies and customers' messages have none.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 23:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


# Not batch_alter_table: a copy of transcript on SQLite would drop the old table, whose
# ON DELETE CASCADE would empty the outbox. Both databases add and drop a column in place.
def upgrade() -> None:
    op.add_column('transcript', sa.Column('rich', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE transcript DROP COLUMN rich")
