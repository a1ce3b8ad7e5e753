"""catalogue_version: one row whose token changes with the words that name products

Each bot process indexes the catalogue's words once (orders/product_index.py) and keeps the
index while this token stays the same; every product created, renamed or deleted changes it
in the same transaction (orders/catalogue_version.py). The first token is random like every
later one, so two databases never share a token for different catalogues.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 02:00:00
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    version = op.create_table(
        'catalogue_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(version, [{'id': 1, 'token': secrets.randbits(62)}])


def downgrade() -> None:
    op.drop_table('catalogue_version')
