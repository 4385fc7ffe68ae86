"""The auditors' view of every look at personal data: filter, page, export (the export is logged too)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Person, PersonAccess, PersonPhone, Ticket, User
from app.models.people import ACCESS_ACTIONS
from app.people import access
from app.people.identity import mask
from app.people.services import classify, id_number_of
from app.roles import ROLE_LABELS
from app.timefmt import local_midnight, local_time

EXPORT_LIMIT = 50_000


@dataclass
class LogFilter:
    username: str = ""
    person: str = ""  # the person's number, name, full ID number or phone
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items() if v not in ("", None)}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def filter_from(args) -> LogFilter:
    return LogFilter(username=args.get("username", "").strip(), person=args.get("person", "").strip(),
                     action=args.get("action", "") if args.get("action") in ACCESS_ACTIONS else "",
                     date_from=_day(args.get("date_from")), date_to=_day(args.get("date_to")))



def _query(f: LogFilter) -> Select:
    query = select(PersonAccess).options(joinedload(PersonAccess.person), joinedload(PersonAccess.user))
    if f.username:
        query = query.where(PersonAccess.username == f.username)
    if f.person:
        if f.person.isdigit() and len(f.person) < 10:
            query = query.where(PersonAccess.person_id == int(f.person))
        else:
            wanted = classify(f.person)
            kind, value = wanted.kind, wanted.key
            if kind == "id_number":
                query = query.join(Person, PersonAccess.person_id == Person.id).where(Person.id_number_hash == value)
            elif kind == "phone":
                owners = select(PersonPhone.person_id).where(PersonPhone.value_hash == value)
                query = query.where(PersonAccess.person_id.in_(owners))
            else:
                query = query.join(Person, PersonAccess.person_id == Person.id).where(
                    Person.name.contains(f.person, autoescape=True))
    if f.action:
        query = query.where(PersonAccess.action == f.action)
    if f.date_from:
        query = query.where(PersonAccess.occurred_at >= local_midnight(f.date_from))
    if f.date_to:
        query = query.where(PersonAccess.occurred_at < local_midnight(f.date_to + timedelta(days=1)))
    return query.order_by(PersonAccess.occurred_at.desc(), PersonAccess.id.desc())


@dataclass
class LogRow:
    entry: PersonAccess
    person: str  # name and masked ID number
    ticket_number: str | None
    roles: str
    grounds: str


def _rows(entries: list[PersonAccess]) -> list[LogRow]:
    tickets = dict(db.session.execute(select(Ticket.id, Ticket.number).where(
        Ticket.id.in_({e.ticket_id for e in entries if e.ticket_id}))).all())
    rows = []
    for e in entries:
        person = f"{e.person.name}（{mask(id_number_of(e.person))}）" if e.person else ""
        roles = "、".join(ROLE_LABELS.get(r, r) for r in (e.role or "").split(",") if r)
        grounds = access.Access(e.reason, None, e.context).description
        if e.ticket_id:
            grounds = "；".join(filter(None, [f"工单 {tickets.get(e.ticket_id, e.ticket_id)}", grounds]))
        rows.append(LogRow(e, person, tickets.get(e.ticket_id) if e.ticket_id else None, roles, grounds))
    return rows


def page(f: LogFilter, number: int, per_page: int = 50):
    pagination = db.paginate(_query(f), page=max(number, 1), per_page=per_page, error_out=False)
    return pagination, _rows(list(pagination.items))


def export(f: LogFilter, user: User, ip: str | None) -> tuple[bytes, int]:
    """The filtered log as .xlsx (at most EXPORT_LIMIT rows); exporting it is itself an access."""
    entries = list(db.session.scalars(_query(f).limit(EXPORT_LIMIT)).unique())
    book = Workbook(write_only=True)
    sheet = book.create_sheet("个人信息访问记录")
    for column, width in zip("ABCDEFGHI", (20, 14, 16, 16, 12, 30, 40, 30, 10), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append(["时间", "用户", "角色", "来源 IP", "操作", "参保人", "依据（工单、来电或理由）", "说明", "参保人编号"])
    for row in _rows(entries):
        e = row.entry
        sheet.append([local_time(e.occurred_at, "%Y-%m-%d %H:%M:%S"), e.username, row.roles, e.ip or "",
                      e.action_label, row.person, row.grounds, e.detail or "", e.person_id or ""])
    buffer = io.BytesIO()
    book.save(buffer)
    access.record(user, "export", None, None, ip, f"导出个人信息访问记录 {len(entries)} 条")
    db.session.commit()
    return buffer.getvalue(), len(entries)
