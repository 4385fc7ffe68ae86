"""The insured-people register in a real Chromium: a manager imports a file with one bad row,
previews and commits it; an agent finds a caller by phone and opens them with a reason (masked);
a team lead reveals the full numbers with a reason; the auditor sees every one of those looks."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import screenshot, signed_in
from tests.people_helpers import csv_bytes, rows_of, valid_id, xlsx_bytes

pytestmark = pytest.mark.browser

FULL_ID = valid_id(1)
MASKED_ID = FULL_ID[:4] + "**********" + FULL_ID[-4:]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRONG_CHECK = valid_id(3)[:17] + ("1" if valid_id(3)[17] == "0" else "0")
ROWS = [
    ["王建国", FULL_ID, "13800000001；0931-8123456", "职工医保", "参保缴费", "兰州市某某商贸有限公司", "城关区",
     "多次来电询问住院报销"],
    ["李秀兰", valid_id(2), "13909311234", "城乡居民医保", "参保缴费", "", "七里河区", ""],
    ["张伟", WRONG_CHECK, "1380000", "职工医保", "参保缴费", "", "西固区", ""],
    ["刘芳", valid_id(4), "18609312345", "居民", "暂停", "", "安宁区", ""],
]


@pytest.fixture
def staff(app):
    factories.user("manager1", ["manager"], display_name="孙丽")
    factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("lead1", ["team_lead"], display_name="赵敏")
    factories.user("auditor1", ["auditor"], display_name="周敏")


def _user(browser, live_server, username):
    return signed_in(browser, live_server, username)


def test_import_find_reveal_and_audit(app, live_server, browser, staff):
    manager = _user(browser, live_server, "manager1")
    manager.get_by_role("link", name="参保人导入").first.click()
    manager.set_input_files("#file", files=[{"name": "城关区参保人名单.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(ROWS)}])
    manager.get_by_label(re.compile("宽松模式")).first.check()
    manager.get_by_role("button", name="上传并校验").click()
    manager.wait_for_selector("#import-problems")
    problems = manager.inner_text("#import-problems")
    assert "第 4 行" in problems and "身份证号校验位错误" in problems and "电话号码格式不正确" in problems
    assert "有误" in manager.inner_text("#import-preview") and FULL_ID not in manager.content()
    screenshot(manager, "people-01-import-preview")
    manager.get_by_role("button", name="确认导入").click()
    manager.wait_for_selector(".alert-success")
    assert "导入完成：新增 3 人" in manager.inner_text(".alert-success")
    screenshot(manager, "people-02-import-done")

    agent = _user(browser, live_server, "agent1")
    agent.get_by_role("link", name="参保人查询").first.click()
    agent.fill("input[name=q]", "13800000001")
    agent.get_by_role("button", name="查询").click()
    agent.wait_for_selector("#people-results")
    assert "王建国" in agent.inner_text("#people-results") and MASKED_ID in agent.inner_text("#people-results")
    assert "13800000001" not in agent.content()
    screenshot(agent, "people-03-agent-search")
    agent.get_by_role("link", name="查看").first.click()
    agent.wait_for_selector("#reason")
    assert "王建国" not in agent.content()
    screenshot(agent, "people-04-reason-asked")
    agent.fill("#reason", "来电人咨询住院报销进度，核实身份")
    agent.get_by_role("button", name="确认并查看").click()
    agent.wait_for_selector("#id-number")
    assert agent.inner_text("#id-number") == MASKED_ID and "138****0001" in agent.inner_text("#phones")
    assert FULL_ID not in agent.content() and "13800000001" not in agent.content()
    screenshot(agent, "people-05-person-masked")
    person_url = agent.url
    agent.select_option("#insured_status", "suspended")
    agent.fill("#add_phones", "139 0000 0009")
    agent.get_by_role("button", name="保存修改").click()
    agent.wait_for_selector("#change-history")
    history = agent.inner_text("#change-history")
    assert "参保缴费" in history and "暂停参保" in history and "139****0009" in history
    screenshot(agent, "people-05b-person-edited")

    lead = _user(browser, live_server, "lead1")
    lead.goto(person_url)
    lead.fill("#reason", "班长复核来电人身份")
    lead.get_by_role("button", name="确认并查看").click()
    lead.fill("#reveal-reason", "办理异地就医备案须核对证件号")
    lead.get_by_role("button", name="查看完整号码").click()
    lead.wait_for_selector("#revealed-note")
    assert lead.inner_text("#id-number") == FULL_ID and "13800000001" in lead.inner_text("#phones")
    screenshot(lead, "people-06-lead-revealed")

    auditor = _user(browser, live_server, "auditor1")
    auditor.get_by_role("link", name="个人信息访问记录").first.click()
    auditor.wait_for_selector("#access-log")
    log = auditor.inner_text("#access-log")
    for expected in ("查询命中", "查看资料", "查看完整号码", "来电人咨询住院报销进度，核实身份",
                     "办理异地就医备案须核对证件号", "李娜", "赵敏", MASKED_ID):
        assert expected in log, expected
    assert FULL_ID not in auditor.content()
    screenshot(auditor, "people-07-access-log")
    auditor.select_option("select[name=action]", "reveal")
    auditor.get_by_role("button", name="筛选").click()
    auditor.wait_for_selector("#access-log")
    assert "查看资料" not in auditor.inner_text("#access-log tbody")


def test_a_large_import_shows_its_progress_and_reloads_when_done(app, live_server, browser, staff):
    """5,200 rows go to the background: the page shows a progress bar and polls the status endpoint;
    when the worker finishes, the page turns into the preview by itself, then into the result."""
    from rq import Queue, SimpleWorker

    from app.redis_client import get_redis

    def run_jobs():
        SimpleWorker([Queue("default", connection=get_redis())], connection=get_redis()).work(burst=True)

    manager = _user(browser, live_server, "manager1")
    manager.goto(f"{live_server}/people/imports")
    manager.set_input_files("#file", files=[{"name": "全市参保人名单.csv", "mimeType": "text/csv",
                                              "buffer": csv_bytes(rows_of(5200), encoding="gbk")}])
    manager.get_by_role("button", name="上传并校验").click()
    manager.wait_for_selector("#import-progress")
    assert "正在逐行校验" in manager.inner_text("#progress-title")
    screenshot(manager, "people-08-import-progress")
    run_jobs()
    manager.wait_for_selector("#commit-form", timeout=20_000)  # the page reloaded itself
    assert "5200" in manager.inner_text("#import-counts")
    manager.get_by_role("button", name="确认导入").click()
    manager.wait_for_selector("#import-progress")
    run_jobs()
    manager.wait_for_selector(".badge.import-done", timeout=20_000)
    assert "已新增" in manager.inner_text("#import-counts")
    screenshot(manager, "people-09-import-large-done")
    manager.goto(f"{live_server}/people/imports")
    assert "已完成" in manager.inner_text("#import-list")
    screenshot(manager, "people-10-import-list")
