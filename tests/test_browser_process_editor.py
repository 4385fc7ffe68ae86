"""A manager reshapes the loop in a real Chromium: adds a team-lead approval with its own form to the
ticket diagram and publishes it; new tickets take the new step, a ticket started before keeps the old
path; a broken diagram is refused with the problems drawn on its elements; a Camunda diagram imports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ProcessInstance, ProcessVersion, Ticket
from tests import factories
from tests.conftest import screenshot, signed_in
from tests.loop import COMPLAINT, do, handled_round, staff, task_names
from workflows import engine

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "bpmn"


def _login(browser, live_server, username):
    return signed_in(browser, live_server, username, width=1400, height=900, timeout_ms=15_000)


def _open_editor(page, live_server):
    page.goto(f"{live_server}/processes/")
    page.get_by_role("link", name=re.compile("编辑流程图|继续编辑草稿")).click()
    page.wait_for_selector('.djs-element[data-element-id="callback"]')
    page.wait_for_function("() => document.querySelector('[data-status]').textContent.startsWith('已打开')")


def _click_element(page, element_id, at_left=False):
    """Click an element where it is drawn: the middle of a shape or of a straight connection, or a lane's
    title strip at its left edge (its middle holds other elements)."""
    box = page.locator(f'.djs-element[data-element-id="{element_id}"]').first.bounding_box()
    x = box["x"] + 12 if at_left else box["x"] + box["width"] / 2
    page.mouse.click(x, box["y"] + box["height"] / 2)
    page.wait_for_selector(f'.props-panel input[data-prop="id"][value="{element_id}"]')


def _set(page, prop, value):
    field = page.locator(f'.props-panel [data-prop="{prop}"]')
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)
        field.press("Tab") if field.evaluate("e => e.tagName") == "INPUT" else field.blur()


def _save(page):
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_function("() => /已保存草稿/.test(document.querySelector('[data-status]').textContent)")


def test_a_manager_adds_an_approval_step_and_only_new_tickets_take_it(app, live_server, browser):
    s = staff()
    factories.user("manager1", ["manager"], display_name="周敏")
    before = engine.start_ticket(COMPLAINT, s.agent)  # on the shipped version
    db.session.commit()

    page = _login(browser, live_server, "manager1")
    _open_editor(page, live_server)
    screenshot(page, "process-01-editor")
    _click_element(page, "flow_satisfied")
    page.get_by_role("button", name="在连线上插入步骤").click()
    page.wait_for_selector('.props-panel h3:has-text("人工步骤")')
    _set(page, "id", "lead_approval")
    _set(page, "name", "班长审批")
    _set(page, "move-lane", "lane_team_lead")
    _set(page, "form", "__new__")
    page.wait_for_selector('.props-panel [data-prop="form-schema"]')
    schema = page.input_value('.props-panel [data-prop="form-schema"]')
    assert '"审批结果"' in schema
    screenshot(page, "process-02-approval-step")
    _save(page)
    assert "校验通过" in page.inner_text("[data-problems]")
    page.get_by_role("button", name="发布…").click()
    page.fill("#publish-note", "满意的投诉工单归档前由班长审批")
    page.get_by_role("button", name="确认发布").click()
    page.wait_for_selector(".alert-success")
    assert "已发布第 2 版" in page.inner_text(".alert-success")
    screenshot(page, "process-03-versions")

    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
    assert version.note == "满意的投诉工单归档前由班长审批"
    published = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "process.published"))
    assert published.username == "manager1" and "第 2 版" in published.summary

    after = engine.start_ticket(COMPLAINT, s.agent)
    db.session.commit()
    versions = dict(db.session.execute(select(ProcessInstance.ticket_id, ProcessInstance.version_id)).all())
    assert versions[after.id] == version.id and versions[before.id] != version.id
    satisfied = {"satisfaction": "satisfied", "callback_note": "市民表示满意"}
    before = do(handled_round(before, s), "callback", satisfied, s.agent)
    assert before.status == "archived"  # the old path: straight to the archive
    after = do(handled_round(after, s), "callback", satisfied, s.agent)
    assert after.status != "archived"
    assert task_names(after) == ["lead_approval"]

    lead = _login(browser, live_server, "lead1")
    lead.goto(f"{live_server}/inbox/?view=pool")
    row = lead.locator("tr.inbox-row", has_text=after.number)
    assert "班长审批" in row.inner_text()
    row.get_by_role("button", name="认领").click()
    lead.goto(f"{live_server}/inbox/?view=mine")
    lead.locator("tr.inbox-row", has_text=after.number).get_by_role("link", name="办理").click()
    lead.wait_for_selector("form.task-form")
    lead.get_by_role("button", name=re.compile("提交")).click()
    assert "审批结果为必填项" in lead.inner_text(".field-error")  # the new form is validated on the server
    lead.get_by_label("同意", exact=True).check()
    lead.fill("#f-opinion", "处理及时，同意归档。")
    screenshot(lead, "process-04-approval-form")
    lead.get_by_role("button", name=re.compile("提交")).click()
    lead.wait_for_load_state("networkidle")
    lead.goto(f"{live_server}/tickets/{after.id}")
    assert "已归档" in lead.inner_text(".ticket-head")
    timeline = lead.inner_text("#timeline")
    assert "完成：班长审批" in timeline and "审批结果" in timeline and "同意" in timeline
    assert "处理及时，同意归档。" in timeline
    screenshot(lead, "process-05-ticket-with-approval")

    page.goto(f"{live_server}/processes/ticket/diff?a=1&b=2")
    page.wait_for_selector('[data-diff-side="new"] .djs-element.diff-added[data-element-id="lead_approval"]')
    changes = page.inner_text("table.changes")
    assert "班长审批" in changes and "新增" in changes
    screenshot(page, "process-06-diff")


def test_a_broken_diagram_is_refused_with_the_problems_on_its_elements(app, live_server, browser):
    factories.user("manager1", ["manager"], display_name="周敏")
    page = _login(browser, live_server, "manager1")
    _open_editor(page, live_server)
    _click_element(page, "lane_team_lead", at_left=True)
    _set(page, "name", "临时小组")
    _click_element(page, "archive")
    _set(page, "script", "import os\narchived = True")
    _click_element(page, "flow_satisfied")
    _set(page, "condition", "satisfaction in (")
    _save(page)
    for element_id in ("lane_team_lead", "archive", "flow_satisfied"):
        assert page.locator(f'.djs-element.has-problem[data-element-id="{element_id}"]').count() == 1
    problems = page.inner_text("[data-problems]")
    assert "临时小组" in problems and "import" in problems
    assert page.locator('.problem-badge[data-problem-for="archive"]').count() == 1
    screenshot(page, "process-07-problems")
    page.get_by_role("button", name="发布…").click()
    assert "修改后才能发布" in page.inner_text("[data-status]")
    assert db.session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2)) is None


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures is not beside the repository")
def test_a_diagram_from_camunda_modeler_imports_and_says_what_must_change(app, live_server, browser):
    factories.user("manager1", ["manager"], display_name="周敏")
    page = _login(browser, live_server, "manager1")
    page.goto(f"{live_server}/processes/")
    page.set_input_files('input[name="file"]', str(FIXTURES / "camunda-job-announcement.bpmn"))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector(".djs-element")
    assert "已导入" in page.inner_text(".alert")
    assert 'aria-selected="true"' in page.inner_html("[data-file-tabs]")
    page.wait_for_selector(".djs-element.has-problem")
    problems = page.inner_text("[data-problems]")
    assert "JUEL" in problems
    screenshot(page, "process-08-camunda-import")
    assert db.session.scalar(select(Ticket.id)) is None
