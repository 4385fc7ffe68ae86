"""Process versions, process instances (one compressed state row each), the open-task projection
that inboxes read, and delivered-message receipts that make message delivery idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ProcessVersion(db.Model):
    """A published set of BPMN files; running tickets stay on the version they started with."""

    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Not unique: rolling back publishes an older version's files again as a new version.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    files_json: Mapped[str] = mapped_column(Text)  # {"ticket.bpmn": "<xml…>", …}
    note: Mapped[str | None] = mapped_column(String(255))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    restored_from: Mapped[int | None] = mapped_column(Integer)  # the version number a roll-back re-published

    published_by = relationship("User")


class ProcessInstance(db.Model):
    """The engine state of one ticket: the serialized workflow without its spec, compressed (LZ4; zlib before).

    `lock_version` is SQLAlchemy's version counter: an UPDATE from a stale copy matches no row,
    so of two people completing the same task exactly one wins."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    serializer_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, completed, cancelled
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[ProcessVersion] = relationship()  # loaded only when a version is not yet parsed

    __mapper_args__ = {"version_id_col": lock_version}


class OpenTask(db.Model):
    """A user task waiting for someone: the engine keeps these rows in step with each instance,
    so inboxes are plain indexed queries and never deserialize a workflow."""

    __table_args__ = (
        # One index per inbox view, in the inbox's order (due_at NULLS LAST, created_at, id) and holding the id:
        # a page's ids and every count are read off the index alone.
        Index("ix_open_task_role_department_due", "role", "department_id", "due_at", "created_at", "id"),
        Index("ix_open_task_assignee_due", "assignee_id", "due_at", "created_at", "id"),
        Index("ix_open_task_pool_due", "role", "due_at", "created_at", "id",
              postgresql_where=text("assignee_id IS NULL"), sqlite_where=text("assignee_id IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    task_name: Mapped[str] = mapped_column(String(64))  # BPMN element id, e.g. department_accept
    title: Mapped[str] = mapped_column(String(100))  # BPMN element name, e.g. 签收
    form: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignee = relationship("User")


class DeliveredMessage(db.Model):
    """Receipt of a message delivered to an instance: the same message id twice changes nothing."""

    __table_args__ = (UniqueConstraint("instance_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))  # delivered, not_waiting
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessDraft(db.Model):
    """One save of the process editor: every save is kept, so no manager's work is ever lost.

    The newest unpublished draft is what the editor opens; publishing turns it into a
    ProcessVersion and records which version it became."""

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    files_json: Mapped[str] = mapped_column(Text)
    based_on_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    problems_json: Mapped[str] = mapped_column(Text, default="[]")  # validation result at save time
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))

    saved_by = relationship("User")
    based_on = relationship(ProcessVersion, foreign_keys=[based_on_version_id])
