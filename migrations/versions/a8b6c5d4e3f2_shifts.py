"""Workforce: the agents' shifts (排班), for adherence and utilisation

Revision ID: a8b6c5d4e3f2
Revises: f7a5b4c3d2e1
Create Date: 2026-12-05 11:40:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'a8b6c5d4e3f2'
down_revision = 'f7a5b4c3d2e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'], name=op.f('fk_shift_updated_by_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_shift_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift')),
    sa.UniqueConstraint('user_id', 'starts_at', name=op.f('uq_shift_user_id'))
    )
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shift_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shift_user_id'))
        batch_op.drop_index(batch_op.f('ix_shift_starts_at'))
    op.drop_table('shift')
