"""Monthly assessment: a manager's exclusions (with their reason) and notes

Revision ID: b9c7d6e5f4a3
Revises: a8b6c5d4e3f2
Create Date: 2026-12-05 12:00:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'b9c7d6e5f4a3'
down_revision = 'a8b6c5d4e3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('indicator', sa.String(length=32), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_assessment_mark_author_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_mark')),
    sa.UniqueConstraint('month', 'indicator', 'item', 'kind', name=op.f('uq_assessment_mark_month'))
    )
    with op.batch_alter_table('assessment_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_mark_month'), ['month'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_mark_month'))
    op.drop_table('assessment_mark')
