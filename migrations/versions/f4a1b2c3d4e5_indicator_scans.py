"""Indicators counted by the database: the conversations' covering index and the tickets'
first-handling deadline

Revision ID: f4a1b2c3d4e5
Revises: e3f0a9b8c7d6
Create Date: 2026-12-05 16:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f4a1b2c3d4e5'
down_revision = 'e3f0a9b8c7d6'
branch_labels = None
depends_on = None

CHATS = "channel IN ('wechat', 'weibo', 'web')"


def upgrade():
    op.create_index('ix_contact_chat_started', 'contact', ['started_at'], unique=False,
                    postgresql_where=sa.text(CHATS), sqlite_where=sa.text(CHATS),
                    postgresql_include=['channel', 'offered_at', 'answered_at', 'ended_at', 'completed_at',
                                        'chat_rating', 'agent_id', 'abandoned', 'queue_id'])
    op.create_index(op.f('ix_ticket_first_handling_due_at'), 'ticket', ['first_handling_due_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_ticket_first_handling_due_at'), table_name='ticket')
    op.drop_index('ix_contact_chat_started', table_name='contact')
