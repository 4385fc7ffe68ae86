"""Omnichannel: chat messages, the channel user of a conversation, and how many chats an agent takes at once

Revision ID: d5e3f2c8b1a4
Revises: c4d2e1b7a9f3
Create Date: 2026-12-05 09:10:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'd5e3f2c8b1a4'
down_revision = 'c4d2e1b7a9f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data_json', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send_state', sa.String(length=8), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_chat_message_author_id_user')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_chat_message_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_message')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_chat_message_source'))
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_message_contact_id'), ['contact_id'], unique=False)
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chat_rating', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_party'), ['party'], unique=False)
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_limit', sa.Integer(), nullable=False, server_default=sa.text('3')))


def downgrade():
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.drop_column('chat_limit')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_party'))
        batch_op.drop_column('chat_rating')
        batch_op.drop_column('party')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_contact_id'))
    op.drop_table('chat_message')
