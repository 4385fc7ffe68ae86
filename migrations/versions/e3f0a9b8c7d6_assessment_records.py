"""Assessment records: test questions and test calls, exam results, complaints about agents, ticket-record checks

Revision ID: e3f0a9b8c7d6
Revises: d2e9f8a7b6c5
Create Date: 2026-12-05 12:35:00

"""
from alembic import op
import sqlalchemy as sa



revision = 'e3f0a9b8c7d6'
down_revision = 'd2e9f8a7b6c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('test_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('expected', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_question'))
    )
    op.create_table('test_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('tester_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['user.id'], name=op.f('fk_test_call_agent_id_user')),
    sa.ForeignKeyConstraint(['question_id'], ['test_question.id'], name=op.f('fk_test_call_question_id_test_question')),
    sa.ForeignKeyConstraint(['tester_id'], ['user.id'], name=op.f('fk_test_call_tester_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_call'))
    )
    with op.batch_alter_table('test_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_call_called_at'), ['called_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_test_call_question_id'), ['question_id'], unique=False)
    op.create_table('exam_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('training', sa.String(length=100), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by'], ['user.id'], name=op.f('fk_exam_result_recorded_by_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_exam_result_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_result'))
    )
    with op.batch_alter_table('exam_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_result_taken_on'), ['taken_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_result_user_id'), ['user_id'], unique=False)
    op.create_table('agent_complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('attitude', sa.Boolean(), nullable=False),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['user.id'], name=op.f('fk_agent_complaint_agent_id_user')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user.id'], name=op.f('fk_agent_complaint_recorded_by_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_agent_complaint_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_complaint'))
    )
    with op.batch_alter_table('agent_complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_complaint_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_complaint_received_on'), ['received_on'], unique=False)
    op.create_table('record_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('faulty', sa.Boolean(), nullable=False),
    sa.Column('bad_outcome', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], name=op.f('fk_record_review_reviewer_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_record_review_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_review'))
    )
    with op.batch_alter_table('record_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_review_reviewed_on'), ['reviewed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_review_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    for table, indexes in (('record_review', ('reviewed_on', 'ticket_id')), ('agent_complaint', ('agent_id', 'received_on')),
                           ('exam_result', ('taken_on', 'user_id')), ('test_call', ('called_at', 'question_id'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
    op.drop_table('test_question')
