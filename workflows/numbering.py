"""Human-friendly ticket numbers, unique under concurrency: a daily sequence, 20261123-0001."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import TicketSequence
from app.timefmt import display_zone


def next_ticket_number(moment: datetime) -> str:
    """Take the next number of the local day, inside the caller's transaction.

    One upsert creates the day's row or counts it up and returns the value; it holds the row's
    lock until the step commits, so two agents recording at the same instant get consecutive
    numbers, never the same one."""
    day = moment.astimezone(display_zone()).date()
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(TicketSequence).values(day=day, last_value=1)
    value = db.session.execute(
        statement.on_conflict_do_update(index_elements=[TicketSequence.day],
                                        set_={"last_value": TicketSequence.last_value + 1})
        .returning(TicketSequence.last_value)
    ).scalar_one()
    return f"{day:%Y%m%d}-{value:04d}"
