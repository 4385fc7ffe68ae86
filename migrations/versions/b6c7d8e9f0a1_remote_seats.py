"""Remote seats (场外坐席): where an agent works from, and whether that is outside the office

Revision ID: b6c7d8e9f0a1
Revises: a5b6c7d8e9f0
Create Date: 2026-12-05 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b6c7d8e9f0a1'
down_revision = 'a5b6c7d8e9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('remote', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.drop_column('remote')
        batch_op.drop_column('address')
