"""The audit trail: append-only, hash-chained entries — who, when, what, from where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One step of someone's work. `hash` = sha256(prev_hash + the entry's canonical content).

    Each ticket's entries form their own chain whose newest hash is kept on the ticket row (which
    every step locks anyway); entries about no ticket form one global chain headed by AuditHead.
    Editing or deleting any row breaks a chain that `hotline audit-verify` walks, and no global
    lock serialises the steps of different tickets."""

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    task_name: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(String(255))
    data_json: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(db.Model):
    """The newest link of the global chain (entries about no ticket); reveals a cut tail."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))
