"""Queries behind the auditors' views."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import LoginEvent
from app.models.security import LOGIN_OUTCOMES


def login_events_page(username: str, outcome: str, page: int, per_page: int = 50):
    query = select(LoginEvent).order_by(LoginEvent.occurred_at.desc(), LoginEvent.id.desc())
    if username:
        query = query.where(LoginEvent.username == username)
    if outcome in LOGIN_OUTCOMES:
        query = query.where(LoginEvent.outcome == outcome)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def ticket_trace(ticket_id: int):
    """Every audit entry of a ticket with its data in Chinese, and that ticket's chain check."""
    import json

    from flask import abort

    from app.models import AuditEntry, ProcessInstance, Ticket
    from app.tickets.form_fields import labelled
    from workflows import specs
    from workflows.audit_trail import verify_ticket

    ticket = db.session.get(Ticket, ticket_id) or abort(404)
    version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.ticket_id == ticket.id))
    parsed = specs.parsed_version(version_id) if version_id else None
    rows = []
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.seq)):
        data = json.loads(entry.data_json) if entry.data_json else {}
        form = specs.form_of(parsed, entry.task_name or "") if parsed else None
        rows.append((entry, labelled(parsed.forms.get(form or "", {}) if parsed else {}, data)))
    return ticket, rows, verify_ticket(ticket)
