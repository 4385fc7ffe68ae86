"""报表归档: every report file built (PDF or Excel), with its progress while a job builds it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ReportFile(db.Model):
    """One file: its report (`kind` day / week / month / assessment, for the period starting
    `first`), its format, and its state (queued → running → done, or failed with the reason).
    A file nobody requested (`requested_by` empty) came from the schedule."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    first: Mapped[date] = mapped_column(Date, index=True)
    fmt: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # read only when downloaded
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester = relationship("User")
