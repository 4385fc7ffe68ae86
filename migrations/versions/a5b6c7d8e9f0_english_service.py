"""English service (英语坐席): the language of a conversation, and of each 常用语

Revision ID: a5b6c7d8e9f0
Revises: f4a1b2c3d4e5
Create Date: 2026-12-05 16:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a5b6c7d8e9f0'
down_revision = 'f4a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default=sa.text("'zh'"), nullable=False))
    with op.batch_alter_table('canned_reply', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default=sa.text("'zh'"), nullable=False))


def downgrade():
    with op.batch_alter_table('canned_reply', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('language')
