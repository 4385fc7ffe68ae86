"""Ticket search (number, phone, name, keyword, dates, status, department, category) and its
Excel export — always through the department scope."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import Select, func, or_, select

from app.auth.scope import scope_to_departments
from app.extensions import db
from app.models import Department, Ticket, User
from app.models.tickets import CATEGORIES, CHANNELS, SATISFACTION, STATUSES
from app.timefmt import local_midnight, local_time

EXPORT_LIMIT = 10_000


@dataclass
class Criteria:
    number: str = ""
    phone: str = ""
    name: str = ""
    keyword: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""
    department_id: int | None = None
    category: str = ""

    def as_args(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items() if v not in ("", None)}


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def criteria_from(args) -> Criteria:
    return Criteria(
        number=args.get("number", "").strip(), phone=args.get("phone", "").strip(), name=args.get("name", "").strip(),
        keyword=args.get("keyword", "").strip(), date_from=_parse_date(args.get("date_from")),
        date_to=_parse_date(args.get("date_to")),
        status=args.get("status", "") if args.get("status") in STATUSES else "",
        department_id=args.get("department_id", type=int) or None,
        category=args.get("category", "") if args.get("category") in CATEGORIES else "",
    )



def query(user: User, c: Criteria) -> Select:
    q = select(Ticket)
    if c.number:
        q = q.where(Ticket.number.contains(c.number))
    if c.phone:
        q = q.where(Ticket.caller_phone.contains(c.phone))
    if c.name:
        q = q.where(Ticket.caller_name.contains(c.name))
    if c.keyword:
        q = q.where(or_(Ticket.subject.contains(c.keyword), Ticket.content.contains(c.keyword)))
    if c.date_from:
        q = q.where(Ticket.created_at >= local_midnight(c.date_from))
    if c.date_to:
        q = q.where(Ticket.created_at < local_midnight(c.date_to + timedelta(days=1)))
    if c.status:
        q = q.where(Ticket.status == c.status)
    if c.department_id:
        q = q.where(Ticket.department_id == c.department_id)
    if c.category:
        q = q.where(Ticket.category == c.category)
    return scope_to_departments(q, user, Ticket.department_id).order_by(Ticket.created_at.desc(), Ticket.id.desc())


def page(user: User, c: Criteria, number: int, per_page: int = 30):
    return db.paginate(query(user, c), page=max(number, 1), per_page=per_page, error_out=False)


def export(user: User, c: Criteria) -> tuple[bytes, int]:
    """The matching tickets as an .xlsx workbook (at most EXPORT_LIMIT rows) and the row count."""
    book = Workbook()
    sheet = book.active
    sheet.title = "工单"
    sheet.append(["工单号", "受理时间", "渠道", "来电号码", "来电人", "类别", "紧急程度", "标题", "诉求内容",
                  "状态", "承办部门", "重复派单次数", "满意度", "办结时间"])
    departments = dict(db.session.execute(select(Department.id, Department.name)).all())
    rows = db.session.scalars(query(user, c).limit(EXPORT_LIMIT)).all()
    for t in rows:
        sheet.append([t.number, local_time(t.created_at), CHANNELS.get(t.channel, t.channel), t.caller_phone,
                      t.caller_name, CATEGORIES.get(t.category, t.category), "紧急" if t.urgency == "urgent" else "一般",
                      t.subject, t.content, STATUSES.get(t.status, t.status), departments.get(t.department_id, ""),
                      t.redispatch_count, SATISFACTION.get(t.satisfaction or "", ""), local_time(t.archived_at)])
    for column, width in zip("ABCDEFGHIJKLMN", (16, 18, 8, 15, 10, 10, 9, 30, 50, 10, 18, 8, 10, 18), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), len(rows)


def count(user: User, c: Criteria) -> int:
    return db.session.scalar(query(user, c).with_only_columns(func.count()).order_by(None)) or 0
