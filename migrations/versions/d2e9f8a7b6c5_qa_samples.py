"""Quality: the daily QA samples with their score, appeal, decision and example flag

Revision ID: d2e9f8a7b6c5
Revises: c1d8e7f6a5b4
Create Date: 2026-12-05 12:20:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'd2e9f8a7b6c5'
down_revision = 'c1d8e7f6a5b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('qa_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('errors', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appeal', sa.Text(), nullable=False),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('example', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['user.id'], name=op.f('fk_qa_sample_agent_id_user')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_qa_sample_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_qa_sample_decided_by_user')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], name=op.f('fk_qa_sample_reviewer_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_qa_sample_ticket_id_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_sample')),
    sa.UniqueConstraint('kind', 'contact_id', 'ticket_id', name=op.f('uq_qa_sample_kind'))
    )
    with op.batch_alter_table('qa_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_sample_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_sample_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_sample_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('qa_sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_sample_status'))
        batch_op.drop_index(batch_op.f('ix_qa_sample_day'))
        batch_op.drop_index(batch_op.f('ix_qa_sample_agent_id'))
    op.drop_table('qa_sample')
