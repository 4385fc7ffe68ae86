"""The agents' and departments' day in a real Chromium: intake by keyboard, dispatch, accept,
return, reply, callback — and a dissatisfied citizen's ticket coming back to the department."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


@pytest.fixture
def hotline(app):
    dy = factories.department("DY", "待遇保障科")
    cg = factories.department("CG", "城关区医疗保障局", kind="district_bureau")
    factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("handler_dy", ["dept_handler"], departments=[dy], display_name="刘洋")
    factories.user("handler_cg", ["dept_handler"], departments=[cg], display_name="张伟")
    return {"dy": dy.id, "cg": cg.id}


def _user(browser, live_server, username):
    return signed_in(browser, live_server, username)


def _intake_by_keyboard(page, subject: str) -> str:
    """Only keys: N opens intake, Tab moves, arrows choose, Ctrl+Enter submits."""
    page.keyboard.press("n")
    page.wait_for_selector("#intake-form")
    # the caller's number has the focus as soon as the page is ready, without a click
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'f-caller_phone'", timeout=5000)
    page.keyboard.type("13800000001")
    page.keyboard.press("Tab")
    page.keyboard.type("王先生")
    page.keyboard.press("Tab")  # channel: already 电话
    page.keyboard.press("Tab")  # category
    assert page.evaluate("document.activeElement.id") == "f-category"
    for _ in range(3):  # 请选择 → 咨询 → 求助 → 投诉
        page.keyboard.press("ArrowDown")
    assert page.input_value("#f-category") == "complaint"
    page.keyboard.press("Tab")  # urgency: 一般 is preselected
    page.keyboard.press("Tab")
    if page.evaluate("document.activeElement.id") != "f-subject":
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-subject"
    page.keyboard.type(subject)
    page.keyboard.press("Tab")
    page.keyboard.type("三月住院的报销款至今未到账，请核查。")
    page.keyboard.press("Alt+2")  # dispatch
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.id") != "f-department_id":
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # first department in the list: 待遇保障科
    assert page.input_value("#f-department_id") != ""
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".ticket-number")
    return re.search(r"\d{8}-\d{4}", page.inner_text(".ticket-number")).group(0)


def _open_task(page, live_server, number: str, view: str) -> None:
    page.goto(f"{live_server}/inbox/?view={view}")
    row = page.locator("tr.inbox-row", has_text=number)
    row.get_by_role("link", name="办理").click()
    page.wait_for_selector("form.task-form")


def _submit(page) -> None:
    page.get_by_role("button", name=re.compile("提交")).click()
    page.wait_for_load_state("networkidle")


def test_the_whole_loop_across_three_users(app, live_server, browser, hotline):
    agent = _user(browser, live_server, "agent1")
    screenshot(agent, "workspace-01-agent-inbox-empty")
    number = _intake_by_keyboard(agent, "住院报销迟迟未到账")
    assert "已受理并派单" in agent.inner_text(".alert-success")
    assert "部门办理中" in agent.inner_text(".ticket-head")
    screenshot(agent, "workspace-02-ticket-dispatched")

    handler = _user(browser, live_server, "handler_dy")
    handler.goto(f"{live_server}/inbox/?view=department")
    assert number in handler.inner_text("#inbox-table")
    screenshot(handler, "workspace-03-department-inbox")
    _open_task(handler, live_server, number, "department")
    handler.get_by_label("签收", exact=True).check()
    screenshot(handler, "workspace-04-accept-form")
    _submit(handler)
    _open_task(handler, live_server, number, "department")
    _submit(handler)  # nothing chosen: the server says what is missing, in Chinese
    assert "办理操作为必填项" in handler.inner_text(".field-error")
    handler.get_by_label("返单（办结）").check()
    handler.fill("#f-result", "经核实，报销款已于今日补发。")
    screenshot(handler, "workspace-05-return-form")
    _submit(handler)

    _open_task(agent, live_server, number, "mine")
    agent.get_by_label("合格，准备答复").check()
    _submit(agent)
    _open_task(agent, live_server, number, "mine")
    agent.fill("#f-reply", "您的报销款已补发，请注意查收。")
    _submit(agent)
    agent.goto(f"{live_server}/inbox/?view=pool")
    agent.locator("tr.inbox-row", has_text=number).get_by_role("button", name="认领").click()
    _open_task(agent, live_server, number, "mine")
    agent.get_by_label("满意", exact=True).check()
    screenshot(agent, "workspace-06-callback-form")
    _submit(agent)
    agent.goto(f"{live_server}/tickets/")  # not a page: the ticket is reached by its number below
    agent.goto(f"{live_server}/inbox/")
    ticket_link = f"{live_server}/tickets/1"
    agent.goto(ticket_link)
    assert "已归档" in agent.inner_text(".ticket-head")
    timeline = agent.inner_text("#timeline")
    for step in ("受理工单", "完成：签收", "完成：办理", "完成：审核返单", "完成：答复", "完成：回访"):
        assert step in timeline
    assert "经核实，报销款已于今日补发。" in timeline
    screenshot(agent, "workspace-07-ticket-archived")


def test_a_dissatisfied_citizen_sends_the_ticket_back_to_the_department(app, live_server, browser, hotline):
    agent = _user(browser, live_server, "agent1")
    number = _intake_by_keyboard(agent, "门诊特殊疾病备案未通过")
    handler = _user(browser, live_server, "handler_dy")
    _open_task(handler, live_server, number, "department")
    handler.get_by_label("签收", exact=True).check()
    _submit(handler)
    _open_task(handler, live_server, number, "department")
    handler.get_by_label("返单（办结）").check()
    handler.fill("#f-result", "已电话告知需补充材料。")
    _submit(handler)
    _open_task(agent, live_server, number, "mine")
    agent.get_by_label("合格，准备答复").check()
    _submit(agent)
    _open_task(agent, live_server, number, "mine")
    agent.fill("#f-reply", "请补充病历后重新申请。")
    _submit(agent)
    agent.goto(f"{live_server}/inbox/?view=pool")
    agent.locator("tr.inbox-row", has_text=number).get_by_role("button", name="认领").click()
    _open_task(agent, live_server, number, "mine")
    agent.get_by_label("不满意", exact=True).check()
    _submit(agent)
    # 重复派单: the dispatch step is back with the agent, who sends it to the department again.
    _open_task(agent, live_server, number, "mine")
    agent.select_option("#f-department_id", label="待遇保障科")
    _submit(agent)
    handler.goto(f"{live_server}/inbox/?view=department")
    assert number in handler.inner_text("#inbox-table")
    screenshot(handler, "workspace-08-redispatched-in-department-inbox")

    other = _user(browser, live_server, "handler_cg")
    other.goto(f"{live_server}/inbox/?view=department")
    assert number not in other.inner_text("#inbox-table")
    response = other.goto(f"{live_server}/tickets/1")
    assert response.status == 403 and "无权访问" in other.inner_text("h1")
    screenshot(other, "workspace-09-other-department-refused")


def test_an_agent_cannot_open_a_departments_inbox(app, live_server, browser, hotline):
    agent = _user(browser, live_server, "agent1")
    response = agent.goto(f"{live_server}/inbox/?view=department")
    assert response.status == 403


def test_notes_attachments_search_export_and_the_auditors_trace(app, live_server, browser, hotline, tmp_path):
    """A team lead supervises, a handler attaches the settlement, an agent finds and exports the
    ticket, and the auditor reads its trace — all in the browser."""
    factories.user("lead1", ["team_lead"], display_name="赵敏")
    factories.user("auditor1", ["auditor"], display_name="周敏")
    agent = _user(browser, live_server, "agent1")
    number = _intake_by_keyboard(agent, "医保卡丢失补办")

    lead = _user(browser, live_server, "lead1")
    lead.goto(f"{live_server}/tickets/1")
    lead.fill("#notes textarea", "请今日内联系市民")
    lead.get_by_role("button", name="督办").click()
    assert "督办意见已记录" in lead.inner_text(".alert-success")

    handler = _user(browser, live_server, "handler_dy")
    handler.goto(f"{live_server}/tickets/1")
    receipt = tmp_path / "补办回执.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    handler.set_input_files("#attachments input[type=file]", str(receipt))
    handler.get_by_role("button", name="上传").click()
    assert "补办回执.pdf" in handler.inner_text("#attachments")
    screenshot(handler, "workspace-10-ticket-notes-attachments")

    agent.goto(f"{live_server}/tickets/search?keyword=丢失")
    assert number in agent.inner_text("#search-results")
    screenshot(agent, "workspace-11-search")
    with agent.expect_download() as download:
        agent.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    auditor = _user(browser, live_server, "auditor1")
    auditor.goto(f"{live_server}/audit/tickets/1")
    assert "审计链完整" in auditor.inner_text("#chain-result")
    assert "督办" in auditor.inner_text("table.trace") and "上传附件" in auditor.inner_text("table.trace")
    screenshot(auditor, "workspace-12-auditor-trace")
