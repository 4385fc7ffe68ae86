"""Voice menu: recorded prompts managers upload, kept as phone audio

Revision ID: c4d2e1b7a9f3
Revises: b3c1f0a9d5e2
Create Date: 2026-12-05 09:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d2e1b7a9f3'
down_revision = 'b3c1f0a9d5e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ivr_node', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audio', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('audio_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('audio_hash', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('audio_seconds', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('ivr_node', schema=None) as batch_op:
        batch_op.drop_column('audio_seconds')
        batch_op.drop_column('audio_hash')
        batch_op.drop_column('audio_name')
        batch_op.drop_column('audio')
