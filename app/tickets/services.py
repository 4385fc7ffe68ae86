"""What the ticket screens ask of the engine: intake, the task a user may work, the timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import abort
from sqlalchemy import select

from app.auth.permissions import can
from app.auth.scope import may_see_department
from app.extensions import db
from app.models import AuditEntry, OpenTask, ProcessInstance, SlaEvent, Ticket, User
from app.tickets.form_fields import labelled
from workflows import engine, specs
from workflows.audit_trail import Actor

INTAKE_FORM = "intake"


def actor(user: User, role: str, ip: str | None) -> Actor:
    return Actor(user.id, user.username, role, ip)


def calls_of(ticket: Ticket) -> list:
    """The calls this ticket was recorded from (来电), newest first."""
    from app.models import Contact

    return list(db.session.scalars(select(Contact).where(Contact.ticket_id == ticket.id)
                                   .order_by(Contact.started_at.desc())))


def visible_ticket(user: User, ticket_id: int) -> Ticket:
    """The ticket, if this user may see it: hotline staff all, a department its own (else 403)."""
    ticket = db.session.get(Ticket, ticket_id) or abort(404)
    if not can(user, "tickets.view_all") and not may_see_department(user, ticket.department_id):
        abort(403)
    return ticket


def form_schema(ticket: Ticket | None, form_name: str) -> dict:
    """A form of the ticket's process version (or of the newest version, for a new ticket)."""
    if ticket is None:
        version_id = specs.latest_version().id
    else:
        version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.ticket_id == ticket.id))
    return specs.parsed_version(version_id).forms.get(form_name, {"properties": {}})


def intake(user: User, data: dict, dispatch_to: int | None, ip: str | None) -> tuple[Ticket, str | None]:
    """Record the request; when the agent chose a department, dispatch it in the same breath.
    Returns the ticket and, if the dispatch step was refused, why (the ticket then waits in the
    agent's own inbox for dispatch)."""
    me = actor(user, "agent", ip)
    ticket = engine.start_ticket(data, me)
    if dispatch_to and not data.get("answered_on_spot"):
        task_id = db.session.scalar(select(OpenTask.id).where(OpenTask.ticket_id == ticket.id,
                                                              OpenTask.task_name == "dispatch"))
        try:
            ticket = engine.complete_task(ticket.id, task_id, {"department_id": dispatch_to}, me, user=user)
        except engine.StepRefused as exc:
            return ticket, exc.message
    return ticket, None


def workable_task(user: User, ticket: Ticket, task_id: str) -> OpenTask:
    """The open task, if this user may work it: holds its role, and for department tasks belongs
    to the department. Someone else's claimed task is theirs (403)."""
    task = db.session.get(OpenTask, task_id)
    if task is None or task.ticket_id != ticket.id:
        abort(404)
    if not user.has_role(task.role):
        abort(403)
    if task.department_id is not None and not may_see_department(user, task.department_id):
        abort(403)
    if task.assignee_id not in (None, user.id):
        abort(403)
    return task


def may_work(user: User, task: OpenTask) -> bool:
    return (user.has_role(task.role) and task.assignee_id in (None, user.id)
            and (task.department_id is None or may_see_department(user, task.department_id)))


def complete(user: User, ticket: Ticket, task: OpenTask, data: dict, ip: str | None) -> Ticket:
    return engine.complete_task(ticket.id, task.id, data, actor(user, task.role, ip), user=user)


@dataclass
class TimelineEntry:
    entry: AuditEntry
    rows: list[tuple[str, str]]


def timeline(ticket: Ticket) -> list[TimelineEntry]:
    """Every step of the ticket, oldest first, with the submitted data in Chinese."""
    parsed = specs.parsed_version(db.session.scalar(
        select(ProcessInstance.version_id).where(ProcessInstance.ticket_id == ticket.id)))
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.seq))
    result = []
    for entry in entries:
        data = json.loads(entry.data_json) if entry.data_json else {}
        schema = parsed.forms.get(specs.form_of(parsed, entry.task_name or "") or "", {})
        if entry.action == "timer.fire":
            rows = [("时限", str(data.get("due_at", "")))]
        else:
            rows = labelled(schema, data)
        result.append(TimelineEntry(entry, rows))
    return result


def sla_events(ticket: Ticket) -> list[SlaEvent]:
    return list(db.session.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)))


def open_tasks(ticket: Ticket) -> list[OpenTask]:
    return list(db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id).order_by(OpenTask.created_at)))


def record_kb_answer(ticket: Ticket, article_id: int, user: User) -> None:
    """The knowledge-base article whose answer the agent inserted (QA and KB statistics)."""
    from app.knowledge.services import record_use

    if record_use(article_id, ticket.id, user, source="intake") is not None:
        db.session.commit()


def speaks_english(user: User) -> bool:
    """An agent with the English skill (英语坐席)."""
    return user.skill_level("en") > 0


def with_english_categories(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """咨询 → 咨询 · Enquiry, for agents who serve citizens in English."""
    from app.models.tickets import CATEGORIES_EN

    return [(value, f"{label} · {CATEGORIES_EN[value]}" if value in CATEGORIES_EN else label)
            for value, label in choices]
