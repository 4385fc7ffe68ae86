"""Calls: the agent leg's SIP Call-ID when the voice-menu media component bridges the caller

Revision ID: b3c1f0a9d5e2
Revises: 6451ca26a65b
Create Date: 2026-12-05 08:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3c1f0a9d5e2'
down_revision = '6451ca26a65b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leg_call_id', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_leg_call_id'), ['leg_call_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_leg_call_id'))
        batch_op.drop_column('leg_call_id')
