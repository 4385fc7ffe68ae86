"""The online-service indicators of each conversation (seed 002): 首次应答回复时长 — the agent's first
reply within 30 s of the conversation reaching them; 人工挂机时长 — the agent closes it within 30 s
of its completion (会话完毕); and 在线满意率 — (满意 + 基本满意) / rated conversations. The console's
countdowns show the same measures live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func
from sqlalchemy.sql.expression import ColumnElement

from app.models import Contact

FIRST_RESPONSE_SECONDS = 30
CLOSE_SECONDS = 30
SATISFIED_RATINGS = ("satisfied", "basic")


def first_response_seconds(contact: Contact, now: datetime) -> float | None:
    """From reaching the agent to their first reply; still counting while unanswered. None for a
    conversation no agent took."""
    if contact.offered_at is None:
        return None
    until = contact.answered_at or contact.ended_at or now
    return max(0.0, (until - contact.offered_at).total_seconds())


def close_seconds(contact: Contact) -> float | None:
    """From 会话完毕 to the agent's 结束会话; None until the agent closed it (or for one nobody took)."""
    if contact.ended_at is None or contact.completed_at is None or contact.abandoned or contact.agent_id is None:
        return None
    return max(0.0, (contact.ended_at - contact.completed_at).total_seconds())


def first_response_late_sql(now_value: ColumnElement) -> tuple[ColumnElement, ColumnElement]:
    """The same two measures as conditions on a contact row, for the database to count a month of
    conversations: (measured, late)."""
    from app.reports.tally import longer_than

    measured = Contact.offered_at.is_not(None)
    until = func.coalesce(Contact.answered_at, Contact.ended_at, now_value)
    return measured, and_(measured, longer_than(until, Contact.offered_at, FIRST_RESPONSE_SECONDS))


def close_late_sql() -> tuple[ColumnElement, ColumnElement]:
    from app.reports.tally import longer_than

    measured = and_(Contact.ended_at.is_not(None), Contact.completed_at.is_not(None), Contact.abandoned.is_not(True),
                    Contact.agent_id.is_not(None))
    return measured, and_(measured, longer_than(Contact.ended_at, Contact.completed_at, CLOSE_SECONDS))


@dataclass
class Measured:
    contact: Contact
    first_response: float | None
    close: float | None

    @property
    def first_response_late(self) -> bool:
        return self.first_response is not None and self.first_response > FIRST_RESPONSE_SECONDS

    @property
    def close_late(self) -> bool:
        return self.close is not None and self.close > CLOSE_SECONDS


@dataclass
class Summary:
    conversations: int = 0
    served: int = 0
    abandoned: int = 0
    first_response_late: int = 0
    close_late: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def satisfaction(self) -> float | None:
        """在线满意率, or None when nobody rated."""
        return self.satisfied / self.rated if self.rated else None


def measure(contacts: list[Contact], now: datetime) -> tuple[list[Measured], Summary]:
    rows = [Measured(c, first_response_seconds(c, now), close_seconds(c)) for c in contacts]
    summary = Summary(conversations=len(rows))
    for row in rows:
        contact = row.contact
        summary.served += contact.agent_id is not None
        summary.abandoned += bool(contact.abandoned)
        summary.first_response_late += row.first_response_late
        summary.close_late += row.close_late
        if contact.chat_rating:
            summary.rated += 1
            summary.satisfied += contact.chat_rating in SATISFIED_RATINGS
    return rows, summary
