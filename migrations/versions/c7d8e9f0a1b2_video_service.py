"""视频服务: a video session is a conversation (channel video) with the citizen's answer to
recording; the conversations' covering index takes the new channel

Revision ID: c7d8e9f0a1b2
Revises: b6c7d8e9f0a1
Create Date: 2026-12-05 17:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c7d8e9f0a1b2'
down_revision = 'b6c7d8e9f0a1'
branch_labels = None
depends_on = None

BEFORE = "channel IN ('wechat', 'weibo', 'web')"
AFTER = "channel IN ('wechat', 'weibo', 'web', 'video')"
INCLUDE = ['channel', 'offered_at', 'answered_at', 'ended_at', 'completed_at', 'chat_rating', 'agent_id', 'abandoned',
           'queue_id']


def upgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_consent', sa.Boolean(), nullable=True))
    op.drop_index('ix_contact_chat_started', table_name='contact')
    op.create_index('ix_contact_chat_started', 'contact', ['started_at'], unique=False, postgresql_where=sa.text(AFTER),
                    sqlite_where=sa.text(AFTER), postgresql_include=INCLUDE)


def downgrade():
    op.drop_index('ix_contact_chat_started', table_name='contact')
    op.create_index('ix_contact_chat_started', 'contact', ['started_at'], unique=False,
                    postgresql_where=sa.text(BEFORE), sqlite_where=sa.text(BEFORE), postgresql_include=INCLUDE)
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('recording_consent')
