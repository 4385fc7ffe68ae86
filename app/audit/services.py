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
