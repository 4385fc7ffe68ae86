"""The integration API (/api/v1): the city's 12345 platform hands the hotline a citizen's complaint
under its own id, follows it to the department and back, and the supervision platform reads the
month's assessment — each with its own token, each seeing only what its token allows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.integrations import issue
from app.models import AuditEntry, OpenTask, Ticket, TicketReference
from tests import factories
from tests.concurrency import in_threads
from workflows import clock, engine
from workflows.audit_trail import Actor

COMPLAINT = {"external_id": "12345-20261205-0007", "category": "complaint", "urgency": "urgent",
             "subject": "定点药店拒绝刷医保卡", "content": "市民反映某定点药店以系统故障为由拒绝刷卡结算。",
             "caller_phone": "13800000077", "caller_name": "张女士", "channel": "phone"}


def token(name: str, scopes: list[str]) -> dict:
    admin = factories.user(f"admin-{name}", ["admin"])
    _, secret = issue(name, scopes, admin, "10.0.0.1", clock.now())
    return {"Authorization": f"Bearer {secret}"}


def tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def test_the_12345_platform_submits_a_complaint_once_and_follows_it_to_the_department(app, client):
    platform = token("12345平台", ["tickets"])
    dy = factories.department("DY", "待遇保障科")
    agent = factories.user("agent1", ["agent"])

    created = client.post("/api/v1/tickets", json=COMPLAINT, headers=platform)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["external_id"], body["status"], body["category_label"]) == (COMPLAINT["external_id"], "dispatching", "投诉")
    assert "caller_phone" not in body and "13800000077" not in created.get_data(as_text=True)  # no personal data back

    again = client.post("/api/v1/tickets", json={**COMPLAINT, "subject": "重发"}, headers=platform)  # a retry
    assert again.status_code == 200 and again.get_json()["number"] == body["number"]
    assert tickets() == 1

    ticket = db.session.scalar(select(Ticket))
    assert (ticket.caller_phone, ticket.urgency, ticket.owner_id) == ("13800000077", "urgent", None)
    dispatch = db.session.scalar(select(OpenTask).where(OpenTask.ticket_id == ticket.id))
    assert (dispatch.task_name, dispatch.assignee_id, dispatch.role) == ("dispatch", None, "agent")  # the pool
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id))
    assert (audit.username, audit.role, audit.action) == ("接口：12345平台", "integration", "ticket.intake")

    since = datetime.now(UTC).isoformat()
    engine.complete_task(ticket.id, dispatch.id, {"department_id": dy.id}, Actor(agent.id, "agent1", "agent"),
                         user=agent)
    followed = client.get(f"/api/v1/tickets/{body['number']}", headers=platform).get_json()
    assert (followed["status"], followed["department"], followed["external_id"]) == (
        "department", "待遇保障科", COMPLAINT["external_id"])
    assert followed["handle_due_at"] is not None
    changed = client.get("/api/v1/tickets", query_string={"changed_since": since}, headers=platform).get_json()
    assert [(t["number"], t["external_id"], t["status"]) for t in changed["tickets"]] == [
        (body["number"], COMPLAINT["external_id"], "department")]


def test_a_system_sees_only_its_own_tickets_and_only_with_the_right_scope(app, client):
    platform, portal = token("12345平台", ["tickets"]), token("网上服务大厅", ["tickets"])
    switch, reports = token("交换机", ["cti"]), token("监管平台", ["reports"])
    number = client.post("/api/v1/tickets", json=COMPLAINT, headers=platform).get_json()["number"]
    assert client.get(f"/api/v1/tickets/{number}", headers=portal).status_code == 404
    assert client.get("/api/v1/tickets", query_string={"changed_since": "2026-01-01T00:00:00+08:00"},
                      headers=portal).get_json() == {"tickets": []}
    # The same external id from another system is another system's ticket.
    assert client.post("/api/v1/tickets", json=COMPLAINT, headers=portal).status_code == 201
    for headers in (switch, reports, {}, {"Authorization": "Bearer hlt_forged"},
                    {"Authorization": f"Bearer {app.config['CTI_TOKEN']}"}):
        refused = client.post("/api/v1/tickets", json={**COMPLAINT, "external_id": "x-1"}, headers=headers)
        assert refused.status_code == 401 and "接口令牌" in refused.get_json()["error"]
    assert client.get("/api/v1/reports/assessment?month=2026-11", headers=platform).status_code == 401
    assert tickets() == 2


def test_a_bad_submission_is_refused_field_by_field_and_writes_nothing(app, client):
    platform = token("12345平台", ["tickets"])
    cases = [
        ([COMPLAINT], None),  # not an object
        ({**COMPLAINT, "external_id": ""}, "external_id"),
        ({**COMPLAINT, "external_id": "含中文"}, "external_id"),
        ({**COMPLAINT, "external_id": "x" * 129}, "external_id"),
        ({**COMPLAINT, "subject": 42}, "subject"),
        ({**COMPLAINT, "priority": "high"}, "priority"),
        ({k: v for k, v in COMPLAINT.items() if k != "content"}, "content"),
        ({**COMPLAINT, "category": "gossip"}, "category"),  # refused by the process's own intake form
        ({**COMPLAINT, "channel": "fax"}, "channel"),
        ({**COMPLAINT, "subject": "'; DROP TABLE ticket; --" + "长" * 300}, "subject"),
    ]
    for body, field in cases:
        answer = client.post("/api/v1/tickets", json=body, headers=platform)
        assert answer.status_code == 400, (body, answer.get_json())
        assert answer.get_json()["error"].startswith(("工单未创建", "请求体"))
        if field:
            assert field in answer.get_json()["fields"], (field, answer.get_json())
    assert client.post("/api/v1/tickets", data="{not json", headers={**platform, "Content-Type": "application/json"}
                       ).status_code == 400
    assert tickets() == 0 and db.session.scalar(select(func.count(TicketReference.id))) == 0
    for since in ("yesterday", "2026-12-01T00:00:00"):  # no zone: ambiguous
        assert client.get("/api/v1/tickets", query_string={"changed_since": since}, headers=platform).status_code == 400
    assert client.get("/api/v1/tickets", query_string={"changed_since": "2026-12-01T00:00:00+08:00", "limit": 0},
                      headers=platform).status_code == 400


def test_the_same_submission_arriving_twice_at_once_makes_one_ticket(app, client):
    platform = token("12345平台", ["tickets"])
    answers = in_threads(app, 4, lambda i: client.post("/api/v1/tickets", json=COMPLAINT, headers=platform))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201}, statuses
    assert len({a.get_json()["number"] for a in answers}) == 1
    assert tickets() == 1


def test_the_supervision_platform_reads_the_months_assessment(app, client):
    reports = token("监管平台", ["reports"])
    with clock.frozen_at(datetime(2026, 12, 5, 10, 0, tzinfo=UTC)):
        answer = client.get("/api/v1/reports/assessment", query_string={"month": "2026-11"}, headers=reports)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["month"] == "2026-11" and body["total_deduction_cny"] == 0
        codes = {line["code"]: line for line in body["indicators"]}
        assert {"answer_rate", "satisfaction"} <= set(codes)
        assert codes["answer_rate"]["target"] and codes["answer_rate"]["deduction_cny"] == 0
        for month, status in (("2027-01", 404), ("1999-12", 404), ("2026-13", 400), ("11-2026", 400), ("", 400)):
            refused = client.get("/api/v1/reports/assessment", query_string={"month": month}, headers=reports)
            assert refused.status_code == status and refused.get_json()["error"], month
