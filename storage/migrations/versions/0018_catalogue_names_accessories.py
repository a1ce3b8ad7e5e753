"""catalogue: products gain names per language, accessories and a search text

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:10:00
"""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _folded(text: str) -> str:
    # As orders/catalogue.py folds (kept here: a migration must not change with the code).
    text = text.lower().replace('ł', 'l').replace('ё', 'е')
    return ''.join(c for c in unicodedata.normalize('NFKD', text)
                   if not unicodedata.combining(c))


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('accessories', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    products = sa.table('products', sa.column('id', sa.Integer()), sa.column('sku', sa.String()),
                        sa.column('name', sa.String()), sa.column('names', sa.JSON()),
                        sa.column('accessories', sa.JSON()),
                        sa.column('search_text', sa.Text()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(products.c.id, products.c.sku, products.c.name)):
        connection.execute(
            products.update().where(products.c.id == row.id).values(
                names={'en': row.name}, accessories=[],
                search_text=_folded(f'{row.sku}\n{row.name}'),
            )
        )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('names', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('accessories', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('search_text', existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('accessories')
        batch_op.drop_column('names')
