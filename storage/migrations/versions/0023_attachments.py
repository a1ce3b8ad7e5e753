"""attachments: customers' photos and PDFs, the inbox's references to them, a return's photo

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 22:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attachments',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('chat_id', sa.String(length=200), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('transcript_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('stored_path', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attachments_conversation_id', 'attachments', ['conversation_id'])
    op.create_index('ix_attachments_transcript_id', 'attachments', ['transcript_id'])
    op.create_index('ix_attachments_key', 'attachments', ['channel', 'chat_id'])
    # Nullable columns: added in place on both databases (no table copy on SQLite).
    op.add_column('inbox', sa.Column('attachments', sa.JSON(), nullable=True))
    op.add_column('returns', sa.Column('photo', sa.String(length=32), nullable=True))


def downgrade() -> None:
    # In place (SQLite >= 3.35, PostgreSQL): a batch copy of returns would cascade-delete
    # the rows that refer to it (see 0022).
    op.execute("ALTER TABLE returns DROP COLUMN photo")
    op.execute("ALTER TABLE inbox DROP COLUMN attachments")
    op.drop_index('ix_attachments_key', table_name='attachments')
    op.drop_index('ix_attachments_transcript_id', table_name='attachments')
    op.drop_index('ix_attachments_conversation_id', table_name='attachments')
    op.drop_table('attachments')
