"""The ticket screens through HTTP: search and export, notes and 督办, attachments, the auditor's
trace, a team lead's reassignment, inbox claims — each within its permissions and scope."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEntry, OpenTask, Ticket
from tests import factories
from tests.conftest import csrf_token
from tests.loop import COMPLAINT, do, staff, task_names
from workflows import engine


def _ticket(s, **overrides):
    return engine.start_ticket({**COMPLAINT, **overrides}, s.agent)


def test_search_finds_by_phone_keyword_and_date_and_exports_to_excel(app, client, auth):
    s = staff()
    _ticket(s, caller_phone="13911112222", subject="异地就医备案", content="如何办理异地就医备案？")
    _ticket(s, caller_phone="13800000009", subject="门特申请", content="门诊特殊疾病申请材料")
    auth.login("agent1")
    page = client.get("/tickets/search?phone=1391111").get_data(as_text=True)
    assert "异地就医备案" in page and "门特申请" not in page
    page = client.get("/tickets/search?keyword=特殊疾病").get_data(as_text=True)
    assert "门特申请" in page and "异地就医备案" not in page
    empty = client.get("/tickets/search?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "没有符合条件的工单" in empty
    response = client.get("/tickets/search.xlsx?keyword=备案")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工单号", "受理时间", "渠道") and len(rows) == 2 and rows[1][7] == "异地就医备案"


def test_a_department_searches_only_its_own_tickets(app, client, auth):
    s = staff()
    mine = _ticket(s, subject="待遇科的工单")
    do(mine, "dispatch", {"department_id": s.dept_id}, s.agent)
    other = _ticket(s, subject="城关区的工单")
    do(other, "dispatch", {"department_id": s.other_dept_id}, s.agent)
    _ticket(s, subject="尚未派单的工单")
    auth.login("handler_dy")
    page = client.get("/tickets/search").get_data(as_text=True)
    assert "待遇科的工单" in page and "城关区的工单" not in page and "尚未派单的工单" not in page
    assert client.get(f"/tickets/{other.id}").status_code == 403


def test_notes_and_supervision_are_recorded_and_only_team_leads_supervise(app, client, auth):
    s = staff()
    ticket = _ticket(s)
    auth.login("agent1")
    token = csrf_token(client, f"/tickets/{ticket.id}")
    client.post(f"/tickets/{ticket.id}/notes", data={"csrf_token": token, "text": "市民情绪激动，注意安抚", "kind": "note"})
    assert client.post(f"/tickets/{ticket.id}/notes",
                       data={"csrf_token": token, "text": "请加快办理", "kind": "supervision"}).status_code == 403
    auth.logout()
    auth.login("lead1")
    token = csrf_token(client, f"/tickets/{ticket.id}")
    client.post(f"/tickets/{ticket.id}/notes", data={"csrf_token": token, "text": "请今日内办结", "kind": "supervision"})
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "市民情绪激动，注意安抚" in page and "请今日内办结" in page
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id)
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["ticket.intake", "ticket.note", "ticket.supervise"]
    from workflows.audit_trail import verify

    assert verify().ok


def test_attachments_are_checked_stored_by_hash_outside_static_and_downloaded_whole(app, client, auth):
    s = staff()
    ticket = _ticket(s)
    do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    auth.login("handler_dy")
    token = csrf_token(client, f"/tickets/{ticket.id}")
    pdf = b"%PDF-1.4 \xe7\xbb\x93\xe7\xae\x97\xe5\x8d\x95"

    def upload(content, name):
        return client.post(f"/tickets/{ticket.id}/attachments",
                           data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)

    assert "附件“结算单.pdf”已上传" in upload(pdf, "结算单.pdf")
    assert "不支持的文件类型" in upload(b"MZ\x90", "tool.exe")
    assert "文件内容与扩展名不符" in upload(b"<html>", "fake.pdf")
    app.config["ATTACHMENT_MAX_BYTES"] = 10
    try:
        assert "超过" in upload(b"%PDF-1.4 " + b"x" * 20, "big.pdf")
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    from app.models import Attachment
    from app.tickets.attachments import path_for

    [row] = db.session.scalars(select(Attachment)).all()
    stored = path_for(row.sha256)
    assert stored.read_bytes() == pdf and "static" not in str(stored)
    download = client.get(f"/tickets/{ticket.id}/attachments/{row.id}")
    assert download.data == pdf and "attachment" in download.headers["Content-Disposition"]
    auth.logout()
    auth.login("handler_cg")
    assert client.get(f"/tickets/{ticket.id}/attachments/{row.id}").status_code == 403


def test_the_auditor_traces_a_ticket_and_sees_tampering(app, client, auth):
    s = staff()
    ticket = _ticket(s)
    do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    factories.user("auditor1", ["auditor"])
    auth.login("auditor1")
    page = client.get(f"/audit/tickets/{ticket.id}").get_data(as_text=True)
    assert "审计链完整：本工单共 2 条记录" in page and "10.0.0.8" in page and "待遇保障科" in page
    with db.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.task_name == "dispatch").values(ip="1.2.3.4"))
    page = client.get(f"/audit/tickets/{ticket.id}").get_data(as_text=True)
    assert "审计链校验未通过" in page and "内容与哈希不符" in page
    assert "发现 1 处问题" in client.get("/audit/chain").get_data(as_text=True)
    auth.logout()
    auth.login("agent1")
    assert client.get(f"/audit/tickets/{ticket.id}").status_code == 403


def test_a_team_lead_reassigns_a_task_to_another_agent(app, client, auth):
    s = staff()
    other = factories.user("agent2", ["agent"], display_name="王强")
    ticket = _ticket(s)
    [task] = db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id)).all()
    auth.login("lead1")
    token = csrf_token(client, f"/inbox/tasks/{task.id}/assign")
    refused = client.post(f"/inbox/tasks/{task.id}/assign", data={"csrf_token": token, "user_id": s.handler.user_id},
                          follow_redirects=True)
    assert "没有办理此任务的角色或部门" in refused.get_data(as_text=True)
    client.post(f"/inbox/tasks/{task.id}/assign", data={"csrf_token": token, "user_id": other.id})
    auth.logout()
    auth.login("agent2")
    assert ticket.number in client.get("/inbox/?view=mine").get_data(as_text=True)
    auth.logout()
    auth.login("agent1")
    assert ticket.number not in client.get("/inbox/?view=mine").get_data(as_text=True)


def test_callback_tasks_are_claimed_from_the_pool_and_released_back(app, client, auth):
    s = staff()
    ticket = _ticket(s, answered_on_spot=True, reply="已当场解答")
    factories.user("agent2", ["agent"])
    [task] = db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id)).all()
    auth.login("agent2")
    assert ticket.number in client.get("/inbox/?view=pool").get_data(as_text=True)
    token = csrf_token(client, "/inbox/?view=pool")
    client.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": token})
    assert ticket.number in client.get("/inbox/?view=mine").get_data(as_text=True)
    auth.logout()
    auth.login("agent1")
    token = csrf_token(client, "/inbox/?view=pool")
    taken = client.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": token}, follow_redirects=True)
    assert "已被他人认领" in taken.get_data(as_text=True)
    assert client.get(f"/tickets/{ticket.id}/tasks/{task.id}").status_code == 403  # someone else's claim
    auth.logout()
    auth.login("agent2")
    token = csrf_token(client, "/inbox/?view=mine")
    client.post(f"/inbox/tasks/{task.id}/release", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(OpenTask, task.id).assignee_id is None


def test_a_task_form_refuses_the_wrong_department_and_the_wrong_role(app, client, auth):
    s = staff()
    ticket = _ticket(s)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    [task] = db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id)).all()
    auth.login("handler_cg")
    assert client.get(f"/tickets/{ticket.id}/tasks/{task.id}").status_code == 403
    auth.logout()
    auth.login("agent1")
    assert client.get(f"/tickets/{ticket.id}/tasks/{task.id}").status_code == 403
    auth.logout()
    auth.login("handler_dy")
    token = csrf_token(client, f"/tickets/{ticket.id}/tasks/{task.id}")
    bad = client.post(f"/tickets/{ticket.id}/tasks/{task.id}", data={"csrf_token": token, "accept_decision": "send_back"})
    assert bad.status_code == 422 and "退单理由为必填项" in bad.get_data(as_text=True)
    client.post(f"/tickets/{ticket.id}/tasks/{task.id}", data={"csrf_token": token, "accept_decision": "accept"})
    assert task_names(db.session.get(Ticket, ticket.id)) == ["department_handle"]
