"""Helpers for ticket-loop stories: the hotline's staff, and one call per step."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, OpenTask, Ticket
from tests import factories
from workflows import engine
from workflows.audit_trail import Actor

COMPLAINT = {"channel": "phone", "category": "complaint", "urgency": "normal", "subject": "住院报销迟迟未到账",
             "content": "三月住院的报销款至今未到账，请核查。", "caller_phone": "13800000001", "caller_name": "王先生",
             "answered_on_spot": False}


@dataclass
class Staff:
    agent: Actor
    handler: Actor
    other_handler: Actor
    lead: Actor
    dept_id: int
    other_dept_id: int
    handler_user: object
    other_handler_user: object


def staff() -> Staff:
    dy = factories.department("DY", "待遇保障科")
    cg = factories.department("CG", "城关区医疗保障局", kind="district_bureau")
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    handler = factories.user("handler_dy", ["dept_handler"], departments=[dy])
    other = factories.user("handler_cg", ["dept_handler"], departments=[cg])
    lead = factories.user("lead1", ["team_lead"])
    return Staff(Actor(agent.id, "agent1", "agent", "10.0.0.8"), Actor(handler.id, "handler_dy", "dept_handler"),
                 Actor(other.id, "handler_cg", "dept_handler"), Actor(lead.id, "lead1", "team_lead"),
                 dy.id, cg.id, handler, other)


def tasks(ticket: Ticket) -> list[OpenTask]:
    return db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id).order_by(OpenTask.task_name)).all()


def task_names(ticket: Ticket) -> list[str]:
    return [t.task_name for t in tasks(ticket)]


def do(ticket: Ticket, name: str, data: dict, actor: Actor, user=None) -> Ticket:
    task = next(t for t in tasks(ticket) if t.task_name == name)
    engine.complete_task(ticket.id, task.id, data, actor, user=user)
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def audit_actions(ticket: Ticket) -> list[tuple[str, str | None]]:
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.seq))
    return [(row.action, row.task_name) for row in rows]


def handled_round(ticket: Ticket, s: Staff, dept_id: int | None = None) -> Ticket:
    """Dispatch → accept → return → accept the return → reply: one complete handling round."""
    ticket = do(ticket, "dispatch", {"department_id": dept_id or s.dept_id, "instructions": "请核查并答复"}, s.agent)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已核实，款项已补发"}, s.handler)
    ticket = do(ticket, "return_review", {"review_decision": "accept"}, s.agent)
    return do(ticket, "reply", {"reply": "您的报销款已补发，请查收。", "reply_method": "phone"}, s.agent)


def record_call_on_the_spot(client, contact_id: int, phone: str, subject: str, content: str, reply: str) -> None:
    """The signed-in agent records the caller's request from the call's pop and answers it on the
    spot (the intake form, linked to the call)."""
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/tickets/new?phone={phone}&contact={contact_id}")
    response = client.post("/tickets/new", data={
        "csrf_token": token, "contact_id": contact_id, "channel": "phone", "caller_phone": phone,
        "category": "consultation", "urgency": "normal", "subject": subject, "content": content,
        "handling": "on_spot", "reply": reply})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
