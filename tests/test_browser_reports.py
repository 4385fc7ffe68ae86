"""In Chromium: a manager reads December's service indicators and opens the rows behind one."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import screenshot, signed_in
from tests.test_report_exports import tuesday  # noqa: F401 - a hand-built day, shared
from tests.test_reports import december  # noqa: F401 - the hand-built month, shared

pytestmark = pytest.mark.browser


def test_a_manager_reads_the_indicators_and_drills_into_one(app, live_server, browser, december):  # noqa: F811
    factories.user("boss", ["manager"])
    page = signed_in(browser, live_server, "boss", width=1400, height=1000)
    try:
        page.goto(f"{live_server}/reports/?month=2026-12")
        page.wait_for_selector("#indicators tr[data-indicator='answer_rate'] a:has-text('80.00%')")
        assert page.locator("#indicators tbody tr").count() == 17
        screenshot(page, "reports-01-indicators")
        page.click("#indicators tr[data-indicator='chat_close'] a")
        page.wait_for_selector("#indicator-rows td:has-text('王强')")
        # the manager leaves 王强's late close out, with the reason
        row = page.locator("#indicator-rows tr:has(td:has-text('王强'))")
        row.locator("input[name=reason]").fill("市民已离线，系统未推送离开事件，已核实")
        row.locator("button:has-text('排除')").click()
        page.wait_for_selector("text=已排除，并记入审计。")
        page.wait_for_selector("#indicator-rows tr.row-off:has-text('市民已离线')")
        screenshot(page, "reports-02-detail")
        # the same figure by agent: 李娜 closed in time, 王强's late close is left out now
        page.click("#breakdown-by a:has-text('按坐席')")
        page.wait_for_selector("#breakdown tr:has-text('王强'):has-text('已排除 1 条')")
        assert page.locator("#breakdown tr:has-text('李娜') td").first.inner_text() == "超时 0 次"
        screenshot(page, "reports-06-breakdown")
        page.goto(f"{live_server}/reports/assessment?month=2026-12")
        page.wait_for_selector("#assessment-total dd:has-text('12,100 元')")  # 12,300 less the 200 left out
        screenshot(page, "reports-03-assessment")
    finally:
        page.context.close()


def test_a_team_lead_reads_a_days_report_with_its_charts_and_asks_for_the_pdf(app, live_server, browser, tuesday):  # noqa: F811
    factories.user("sun", ["team_lead"])
    page = signed_in(browser, live_server, "sun", width=1400, height=1000)
    try:
        page.goto(f"{live_server}/reports/operations?kind=day&day=2026-12-08")
        page.wait_for_selector("svg.chart rect")
        assert page.locator("#hot-topics td:text-is('异地就医')").count() == 1
        screenshot(page, "reports-04-operations")
        page.click("text=PDF")
        page.wait_for_selector("text=报表正在后台生成，完成后可在此下载。")
        assert page.locator("#archive tr[data-file]").count() == 1
        screenshot(page, "reports-05-archive")
    finally:
        page.context.close()
