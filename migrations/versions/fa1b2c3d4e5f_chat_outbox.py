"""Chat replies as an outbox: when each pending reply is next due to be handed to its channel, so a
reply whose job was lost (a worker killed mid-send, Redis restarted empty) is found and sent again

Revision ID: fa1b2c3d4e5f
Revises: e9f0a1b2c3d4
Create Date: 2026-12-05 21:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'fa1b2c3d4e5f'
down_revision = 'e9f0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_message') as batch:
        batch.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE chat_message SET next_attempt_at = created_at WHERE send_state = 'pending'")
    op.create_index('ix_chat_message_outbox', 'chat_message', ['next_attempt_at'],
                    postgresql_where=sa.text("send_state = 'pending'"), sqlite_where=sa.text("send_state = 'pending'"))


def downgrade():
    op.drop_index('ix_chat_message_outbox', table_name='chat_message')
    with op.batch_alter_table('chat_message') as batch:
        batch.drop_column('next_attempt_at')
