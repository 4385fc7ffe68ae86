"""月度考核: what a manager adds to a month's assessment — exclusions with their reason, and notes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AssessmentMark(db.Model):
    """月度考核 annotations by a manager: an item left out of an indicator (`kind` exclude: one
    record such as ``contact:12`` or ``ticket:7``, or ``day:2026-12-05`` — a force majeure day —
    for every indicator when `indicator` is ``*``), or a note on an indicator (`kind` note).
    Each carries its reason; adding or removing one is audited."""

    __table_args__ = (UniqueConstraint("month", "indicator", "item", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # the first day of the month assessed
    indicator: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(8))  # exclude, note
    reason: Mapped[str] = mapped_column(String(500))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
