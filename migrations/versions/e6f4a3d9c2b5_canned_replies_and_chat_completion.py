"""Chats: 常用语 kept by managers, and when a conversation was complete (for 人工挂机时长)

Revision ID: e6f4a3d9c2b5
Revises: d5e3f2c8b1a4
Create Date: 2026-12-05 11:00:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'e6f4a3d9c2b5'
down_revision = 'd5e3f2c8b1a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('canned_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_reply'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('completed_at')
    op.drop_table('canned_reply')
