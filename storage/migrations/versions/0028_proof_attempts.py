"""proof_attempts: failed proofs and lockouts, in the database instead of Redis

A proof turn read its lockout from Redis, in a round trip of its own below saturation; now it
reads it in the turn's own transaction, and a failure is counted in that transaction too
(dialog/proof_limits.py, storage/repositories/proof_attempts.py). Counts and lockouts kept in
Redis before are not carried over: the upgrade starts them afresh, once.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 22:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'proof_attempts',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_ends', sa.DateTime(timezone=True), nullable=False),
        sa.Column('strikes', sa.Integer(), nullable=False),
        sa.Column('strikes_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('proof_attempts')
