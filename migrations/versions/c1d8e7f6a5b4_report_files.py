"""Reports: the archive of built report files (PDF, Excel) with their progress

Revision ID: c1d8e7f6a5b4
Revises: b9c7d6e5f4a3
Create Date: 2026-12-05 12:10:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'c1d8e7f6a5b4'
down_revision = 'b9c7d6e5f4a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('first', sa.Date(), nullable=False),
    sa.Column('fmt', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_report_file_requested_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_file'))
    )
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_file_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_file_first'), ['first'], unique=False)


def downgrade():
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_file_first'))
        batch_op.drop_index(batch_op.f('ix_report_file_created_at'))
    op.drop_table('report_file')
