"""capabilities: a payment token per order, hashed expiring chat links, chat token idle age

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:30:00

The order's link_token opened both the chat and the payment page. It becomes pay_token (a
new random value for every order, so that the old token no longer pays) and its old value
lives on as a chat link (hashed) for LINK_DAYS, so that links already sent keep working.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

LINK_DAYS = 30  # the default of [security] link_token_days


def upgrade() -> None:
    op.create_table('chat_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_links_order_id'), ['order_id'], unique=False)

    connection = op.get_bind()
    now = datetime.now(UTC)
    chat_links = sa.table('chat_links', sa.column('token_hash', sa.String),
                          sa.column('order_id', sa.Integer),
                          sa.column('created_at', sa.DateTime(timezone=True)),
                          sa.column('expires_at', sa.DateTime(timezone=True)))
    orders = sa.table('orders', sa.column('id', sa.Integer), sa.column('link_token', sa.String),
                      sa.column('pay_token', sa.String))
    rows = connection.execute(sa.select(orders.c.id, orders.c.link_token)).all()
    if rows:
        connection.execute(chat_links.insert(), [
            {"token_hash": hashlib.sha256(token.encode()).hexdigest(), "order_id": order_id,
             "created_at": now, "expires_at": now + timedelta(days=LINK_DAYS)}
            for order_id, token in rows
        ])
    # A plain rename (SQLite 3.25+, PostgreSQL): rebuilding "orders" on SQLite would drop the
    # table its order lines and history cascade from.
    op.execute('ALTER TABLE orders RENAME COLUMN link_token TO pay_token')
    for order_id, _ in rows:
        connection.execute(orders.update().where(orders.c.id == order_id)
                           .values(pay_token=secrets.token_urlsafe(16)))

    with op.batch_alter_table('conversation_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table('conversation_tokens', sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('last_used_at', sa.DateTime(timezone=True)))
    connection.execute(tokens.update().values(last_used_at=tokens.c.created_at))
    with op.batch_alter_table('conversation_tokens', schema=None) as batch_op:
        batch_op.alter_column('last_used_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    # The payment tokens become the orders' only link again; the chat links are gone.
    op.execute('ALTER TABLE orders RENAME COLUMN pay_token TO link_token')
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_links_order_id'))
    op.drop_table('chat_links')
