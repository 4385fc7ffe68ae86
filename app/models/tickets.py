"""Tickets (工单): what the citizen asked, where the ticket stands, its deadlines and SLA events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.org import Department, User
from app.models.types import UTCDateTime, utcnow

CATEGORIES: dict[str, str] = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "suggestion": "建议",
    "praise": "表扬",
    "business": "业务办理",
}
CATEGORIES_EN: dict[str, str] = {  # for 英语坐席, shown beside the Chinese ones
    "consultation": "Enquiry",
    "help": "Request for help",
    "complaint": "Complaint",
    "suggestion": "Suggestion",
    "praise": "Praise",
    "business": "Transaction",
}
URGENCIES: dict[str, str] = {"normal": "一般", "urgent": "紧急"}
CHANNELS: dict[str, str] = {"phone": "电话", "wechat": "微信", "weibo": "微博", "web": "网页", "video": "视频"}
SATISFACTION: dict[str, str] = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
    "unreachable": "无法联系",
}
STATUSES: dict[str, str] = {
    "intake": "受理中",
    "dispatching": "待派单",
    "department": "部门办理中",
    "extension": "延期审批中",
    "reviewing": "待审核返单",
    "replying": "待答复",
    "callback": "待回访",
    "escalated": "提级督办",
    "archived": "已归档",
    "cancelled": "已撤销",
}
SLA_EVENTS: dict[str, str] = {
    "dispatch_overdue": "初次处理超时",
    "accept_overdue": "签收超时",
    "handle_warning": "临期预警",
    "handle_overdue": "办理超期",
    "major_event": "超期五个工作日（重大事件）",
}


class Ticket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    caller_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)  # the insured person (参保人)
    status: Mapped[str] = mapped_column(String(16), default="intake", index=True)
    current_step: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the agent who took the request
    redispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    sla_state: Mapped[str] = mapped_column(String(20), default="ok")  # ok, warning, overdue, major_event
    first_handling_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # a month's 初次处理
    first_handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audit_hash: Mapped[str | None] = mapped_column(String(64))  # newest link of this ticket's audit chain

    department: Mapped[Department | None] = relationship()
    owner: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)


class TicketSequence(db.Model):
    """The last ticket number handed out per day: numbers read 20261123-0001, 20261123-0002 …"""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class TicketReference(db.Model):
    """A ticket another system submitted (the city's 12345 platform, a portal), under that system's
    own id: the same submission sent again finds this row instead of making a second ticket. Written
    in the ticket's own transaction."""

    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # the integration's name (its token's name)
    external_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaEvent(db.Model):
    """A deadline point a ticket passed (warning, overdue, major event): the assessment counts these."""

    __table_args__ = (UniqueConstraint("ticket_id", "kind", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


NOTE_KINDS: dict[str, str] = {"note": "内部备注", "supervision": "督办"}


class TicketNote(db.Model):
    """An internal note on a ticket (never shown to the citizen), or a team lead's 督办 instruction."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20), default="note")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return NOTE_KINDS.get(self.kind, self.kind)


class Attachment(db.Model):
    """A file on a ticket, stored outside the web root under the hash of its content."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as the user named it, shown and offered on download
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship()
