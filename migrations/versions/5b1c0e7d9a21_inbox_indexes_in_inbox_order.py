"""Inbox indexes in the inbox's order (due_at NULLS LAST, created_at, id), holding the id, and a
partial index for the unclaimed pool: a page's ids and every count are read off an index alone.

Revision ID: 5b1c0e7d9a21
Revises: 184d848b428b
Create Date: 2026-11-23 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1c0e7d9a21'
down_revision = '184d848b428b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.drop_index('ix_open_task_role_department_due')
        batch_op.drop_index('ix_open_task_assignee_due')
        batch_op.create_index('ix_open_task_role_department_due', ['role', 'department_id', 'due_at', 'created_at', 'id'])
        batch_op.create_index('ix_open_task_assignee_due', ['assignee_id', 'due_at', 'created_at', 'id'])
        batch_op.create_index('ix_open_task_pool_due', ['role', 'due_at', 'created_at', 'id'],
                              postgresql_where=sa.text('assignee_id IS NULL'),
                              sqlite_where=sa.text('assignee_id IS NULL'))


def downgrade():
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.drop_index('ix_open_task_pool_due')
        batch_op.drop_index('ix_open_task_assignee_due')
        batch_op.drop_index('ix_open_task_role_department_due')
        batch_op.create_index('ix_open_task_role_department_due', ['role', 'department_id', 'due_at'])
        batch_op.create_index('ix_open_task_assignee_due', ['assignee_id', 'due_at'])
