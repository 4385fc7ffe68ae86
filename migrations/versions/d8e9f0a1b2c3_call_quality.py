"""浏览器软电话: the connection quality (loss, jitter, round-trip) of each call a browser answered

Revision ID: d8e9f0a1b2c3
Revises: c7d8e9f0a1b2
Create Date: 2026-12-05 18:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd8e9f0a1b2c3'
down_revision = 'c7d8e9f0a1b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'call_quality',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('packets_received', sa.Integer(), nullable=False),
        sa.Column('packets_lost', sa.Integer(), nullable=False),
        sa.Column('jitter_ms_sum', sa.Float(), nullable=False),
        sa.Column('jitter_ms_max', sa.Float(), nullable=False),
        sa.Column('rtt_samples', sa.Integer(), nullable=False),
        sa.Column('rtt_ms_sum', sa.Float(), nullable=False),
        sa.Column('rtt_ms_max', sa.Float(), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['user.id'], name=op.f('fk_call_quality_agent_id_user')),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_call_quality_contact_id_contact'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_call_quality')),
    )


def downgrade():
    op.drop_table('call_quality')
