"""Human-friendly ticket numbers, unique under concurrency: a daily sequence, 20261123-0001."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import TicketSequence
from app.timefmt import display_zone

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


def next_ticket_number(moment: datetime) -> str:
    """Take the next number of the local day, inside the caller's transaction.

    One upsert creates the day's row or counts it up and returns the value; it holds the row's
    lock until the step commits, so two agents recording at the same instant get consecutive
    numbers, never the same one."""
    day = moment.astimezone(display_zone()).date()
    value = db.session.execute(_statement(db.engine.dialect.name), {"day": day}).scalar_one()
    return f"{day:%Y%m%d}-{value:04d}"
