"""Integration API: tickets another system submitted, kept under that system's own id so a
submission sent twice makes one ticket

Revision ID: ab2c3d4e5f60
Revises: fa1b2c3d4e5f
Create Date: 2026-12-05 22:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'ab2c3d4e5f60'
down_revision = 'fa1b2c3d4e5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_reference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_reference_ticket_id_ticket'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_reference')),
        sa.UniqueConstraint('source', 'external_id', name=op.f('uq_ticket_reference_source')),
    )
    op.create_index(op.f('ix_ticket_reference_ticket_id'), 'ticket_reference', ['ticket_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_ticket_reference_ticket_id'), table_name='ticket_reference')
    op.drop_table('ticket_reference')
