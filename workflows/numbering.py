"""Human-friendly ticket numbers, unique under concurrency: a daily sequence, 20261123-0001."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import TicketSequence

_statements: dict = {}


def _statement(dialect: str):
    if dialect not in _statements:
        table = TicketSequence.__table__
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        _statements[dialect] = (insert(table).values(day=bindparam("day"), last_value=1)
                                .on_conflict_do_update(index_elements=[table.c.day],
                                                       set_={"last_value": table.c.last_value + 1})
                                .returning(table.c.last_value))
    return _statements[dialect]


def number_prefix(day: date) -> str:
    return f"{day:%Y%m%d}-"


def number_of(day: date, value: int) -> str:
    return f"{number_prefix(day)}{value:04d}"


# The same number written by PostgreSQL itself, when a ticket's insert takes its number in the
# same statement (`step_sql_pg.create`): the day's prefix as a parameter, the value padded to 4.
PG_NUMBER_SQL = "%(number_prefix)s || lpad({value}::text, greatest(4, length({value}::text)), '0')"


def next_number(day: date) -> str:
    """Take the next number of `day`, inside the caller's transaction.

    One upsert creates the day's row or counts it up and returns the value; it holds the row's
    lock until the step commits, so two agents recording at the same instant get consecutive
    numbers, never the same one."""
    value = db.session.execute(_statement(db.engine.dialect.name), {"day": day}).scalar_one()
    return number_of(day, value)
