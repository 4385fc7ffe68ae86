"""The timer sweep: fire every instance whose next timer is due, one transaction each.

Each instance is taken with FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers can sweep
at once and an instance a user is completing right now is left for the next sweep."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance
from workflows import clock, engine

log = logging.getLogger(__name__)


def sweep_due_timers(limit: int = 500) -> dict[str, int]:
    """Fire due timers on up to `limit` instances (indexed on next_timer_at); counts for the log."""
    due = db.session.scalars(
        select(ProcessInstance.ticket_id)
        .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= clock.now())
        .order_by(ProcessInstance.next_timer_at).limit(limit)
    ).all()
    db.session.rollback()
    counts = {"instances": 0, "fired": 0, "busy": 0, "failed": 0}
    for ticket_id in due:
        try:
            fired = engine.fire_due_timers(ticket_id)
        except engine.StepRefused as exc:
            log.error("timer sweep failed on ticket %s: %s", ticket_id, exc.message)
            counts["failed"] += 1
            continue
        if fired is None:
            counts["busy"] += 1
        else:
            counts["instances"] += 1
            counts["fired"] += fired
    return counts
