"""Tickets for other systems (the city's 12345 platform, a service portal), through the integration
API: a citizen's request submitted under the system's own id, its progress, what changed since.

A system sees only the tickets it submitted, and never the citizen's personal data (phone, name,
the linked insured person): it already holds them, and a token that leaks must not become a way to
read the hotline's register. Submitting the same id again returns the first ticket."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Ticket, TicketReference
from app.models.tickets import CATEGORIES
from app.refusals import Refused
from workflows import engine
from workflows.audit_trail import Actor

EXTERNAL_ID = re.compile(r"^[!-~]{1,128}$")  # visible ASCII, as the systems' own ids are
FIELDS = {"external_id": "外部编号", "channel": "渠道", "category": "诉求类别", "urgency": "紧急程度",
          "subject": "标题", "content": "诉求内容", "caller_phone": "来电号码", "caller_name": "来电人"}
REQUIRED = ("external_id", "category", "subject", "content")
MAX_CHANGED = 200


class SubmissionRefused(Refused):
    """A submission that cannot become a ticket; `errors` names each field at fault."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


def _checked(body) -> dict:
    """The submission's shape, at the edge: an object of known fields, each a string."""
    if not isinstance(body, dict):
        raise SubmissionRefused("请求体必须是 JSON 对象")
    errors = {name: "不是可接受的字段" for name in body if name not in FIELDS}
    errors.update({name: "必须是字符串" for name, value in body.items()
                   if name in FIELDS and value is not None and not isinstance(value, str)})
    errors.update({name: f"请填写{FIELDS[name]}" for name in REQUIRED
                   if name not in errors and not (body.get(name) or "").strip()})
    if "external_id" not in errors and not EXTERNAL_ID.match(body["external_id"]):
        errors["external_id"] = "外部编号须为 1–128 个可见 ASCII 字符"
    if errors:
        raise SubmissionRefused("工单未创建：" + "；".join(f"{k}：{v}" for k, v in errors.items()), errors)
    return {name: value.strip() for name, value in body.items() if isinstance(value, str)}


def referenced(source: str, external_id: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).join(TicketReference, TicketReference.ticket_id == Ticket.id)
                             .where(TicketReference.source == source, TicketReference.external_id == external_id))


def submit(source: str, body, ip: str | None, now: datetime) -> tuple[Ticket, bool]:
    """A ticket for the submission (and True), or the one the same id made before (and False).
    The new ticket waits in the agents' pool (待认领) for dispatch, like one taken on the phone."""
    values = _checked(body)
    known = referenced(source, values["external_id"])
    if known is not None:
        return known, False
    intake = {"channel": values.get("channel") or "web", "category": values["category"],
              "urgency": values.get("urgency") or "normal", "subject": values["subject"],
              "content": values["content"], "caller_phone": values.get("caller_phone") or None,
              "caller_name": values.get("caller_name") or None, "answered_on_spot": False}

    def reference(ticket_id: int) -> None:
        db.session.add(TicketReference(source=source, external_id=values["external_id"], ticket_id=ticket_id,
                                       created_at=now))

    actor = Actor(None, f"接口：{source}", "integration", ip)
    try:
        row = engine.start_ticket(intake, actor, also=reference)
    except engine.StepConflict:  # the same id at the same moment, through another request
        known = referenced(source, values["external_id"])
        if known is None:
            raise
        return known, False
    except engine.StepRefused as exc:
        raise SubmissionRefused(f"工单未创建：{exc.message}", exc.errors) from exc
    return db.session.get(Ticket, row.id), True


def mine(source: str, number: str) -> tuple[Ticket, str] | None:
    """The ticket `number` and this system's id for it, if this system submitted it."""
    row = db.session.execute(select(Ticket, TicketReference.external_id)
                             .join(TicketReference, TicketReference.ticket_id == Ticket.id)
                             .where(TicketReference.source == source, Ticket.number == number)).first()
    return None if row is None else (row[0], row[1])


def changed(source: str, since: datetime, limit: int) -> list[tuple[Ticket, str]]:
    """This system's tickets changed at or after `since`, oldest change first, with their ids."""
    return list(db.session.execute(
        select(Ticket, TicketReference.external_id).join(TicketReference, TicketReference.ticket_id == Ticket.id)
        .where(TicketReference.source == source, Ticket.updated_at >= since)
        .order_by(Ticket.updated_at, Ticket.id).limit(min(max(limit, 1), MAX_CHANGED))).tuples())


def progress(ticket: Ticket, external_id: str | None = None) -> dict:
    """What a submitting system may know of its ticket: where it stands, the answer, the rating."""

    def instant(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"number": ticket.number, "external_id": external_id, "status": ticket.status,
            "status_label": ticket.status_label, "category": ticket.category,
            "category_label": CATEGORIES.get(ticket.category, ticket.category), "channel": ticket.channel,
            "subject": ticket.subject, "current_step": ticket.current_step,
            "department": ticket.department.name if ticket.department else None,
            "handle_due_at": instant(ticket.handle_due_at), "sla_state": ticket.sla_state,
            "reply": ticket.reply, "satisfaction": ticket.satisfaction, "created_at": instant(ticket.created_at),
            "updated_at": instant(ticket.updated_at), "archived_at": instant(ticket.archived_at)}
