"""Insured people (参保人): encrypted identifiers found by keyed hash, change history, access log, imports

Revision ID: c6a1e0f2b901
Revises: 5b1c0e7d9a21
Create Date: 2026-11-23 14:10:00

ticket.person_id becomes a foreign key to person.id (with an index: the person page lists a
person's tickets). There was no person table before, so any value the column held pointed at
nothing and is cleared first. SQLite cannot add a constraint to a table, so the ticket table is
rebuilt (batch mode: copy, drop, rename) the way SQLite's documentation prescribes: foreign keys
off outside a transaction, the rebuild in one transaction, `foreign_key_check`, foreign keys on —
dropping a table that other rows reference would fail otherwise, even with deferred checks.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6a1e0f2b901'
down_revision = '5b1c0e7d9a21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_kind', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('valid_rows', sa.Integer(), nullable=False),
    sa.Column('invalid_rows', sa.Integer(), nullable=False),
    sa.Column('created_rows', sa.Integer(), nullable=False),
    sa.Column('updated_rows', sa.Integer(), nullable=False),
    sa.Column('written_rows', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('report_path', sa.String(length=255), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('committed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['committed_by_id'], ['user.id'], name=op.f('fk_person_import_committed_by_id_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_person_import_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_import'))
    )
    with op.batch_alter_table('person_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_import_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_import_sha256'), ['sha256'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=False),
    sa.Column('insurance_type', sa.String(length=16), nullable=False),
    sa.Column('insured_status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_person_created_by_id_user')),
    sa.ForeignKeyConstraint(['import_id'], ['person_import.id'], name=op.f('fk_person_import_id_person_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_person_id_number_hash'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_name'), ['name'], unique=False)

    op.create_table('person_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['person_import.id'], name=op.f('fk_person_change_import_id_person_import')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_change_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_person_change_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_change'))
    )
    with op.batch_alter_table('person_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_change_person_id'), ['person_id'], unique=False)

    op.create_table('person_phone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value_enc', sa.LargeBinary(), nullable=False),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_phone_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_phone')),
    sa.UniqueConstraint('person_id', 'value_hash', name=op.f('uq_person_phone_person_id'))
    )
    with op.batch_alter_table('person_phone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_phone_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_phone_value_hash'), ['value_hash'], unique=False)

    op.create_table('person_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('context', sa.String(length=80), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_access_person_id_person')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_person_access_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_person_access_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_access'))
    )
    with op.batch_alter_table('person_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_access_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_access_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_access_user_id'), ['user_id'], unique=False)

    _alter_ticket(_link_ticket_to_person)


def _link_ticket_to_person():
    # Nothing ticket.person_id held could point at a person yet.
    op.execute(sa.text('UPDATE ticket SET person_id = NULL WHERE person_id IS NOT NULL'))
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ticket_person_id_person'), 'person', ['person_id'], ['id'])


def _unlink_ticket_from_person():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ticket_person_id'))


def downgrade():
    _alter_ticket(_unlink_ticket_from_person)

    with op.batch_alter_table('person_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_access_user_id'))
        batch_op.drop_index(batch_op.f('ix_person_access_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_access_occurred_at'))
    op.drop_table('person_access')

    with op.batch_alter_table('person_phone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_phone_value_hash'))
        batch_op.drop_index(batch_op.f('ix_person_phone_person_id'))
    op.drop_table('person_phone')

    with op.batch_alter_table('person_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_change_person_id'))
    op.drop_table('person_change')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_name'))
    op.drop_table('person')

    with op.batch_alter_table('person_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_import_sha256'))
        batch_op.drop_index(batch_op.f('ix_person_import_created_at'))
    op.drop_table('person_import')


def _alter_ticket(alter):
    if op.get_bind().dialect.name != 'sqlite':
        alter()
        return
    with op.get_context().autocommit_block():
        op.execute(sa.text('PRAGMA foreign_keys = OFF'))  # takes effect only outside a transaction
        try:
            op.execute(sa.text('BEGIN'))
            alter()
            broken = op.get_bind().execute(sa.text('PRAGMA foreign_key_check(ticket)')).fetchall()
            if broken:
                raise RuntimeError(f'ticket rebuild left {len(broken)} broken foreign keys')
            op.execute(sa.text('COMMIT'))
        except BaseException:
            try:
                op.execute(sa.text('ROLLBACK'))
            except sa.exc.OperationalError:
                pass  # no transaction was open
            raise
        finally:
            op.execute(sa.text('PRAGMA foreign_keys = ON'))
