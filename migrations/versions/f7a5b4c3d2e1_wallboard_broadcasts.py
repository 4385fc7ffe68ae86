"""Wallboard: a team lead's broadcasts to every agent's screen

Revision ID: f7a5b4c3d2e1
Revises: e6f4a3d9c2b5
Create Date: 2026-12-05 11:30:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'f7a5b4c3d2e1'
down_revision = 'e6f4a3d9c2b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_broadcast_author_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast'))
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_created_at'))
    op.drop_table('broadcast')
