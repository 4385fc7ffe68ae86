"""The workflow state is compressed by the engine (LZ4): PostgreSQL stores it out of line as it
is, instead of trying to compress it once more at every step

Revision ID: b3c4d5e6f701
Revises: ab2c3d4e5f60
Create Date: 2026-12-06 04:30:00

"""
from alembic import op

revision = 'b3c4d5e6f701'
down_revision = 'ab2c3d4e5f60'
branch_labels = None
depends_on = None


def upgrade():
    # EXTENDED (the default) runs pglz over every new state larger than about 2 KB; an LZ4 frame
    # gains little from it and the attempt cost more database time than the rest of the write.
    # SQLite has no such setting.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance ALTER COLUMN state SET STORAGE EXTERNAL')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance ALTER COLUMN state SET STORAGE EXTENDED')
