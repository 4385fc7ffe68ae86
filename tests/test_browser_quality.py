"""In Chromium: QA draws the day's sample and scores a call with the seed's error types."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import screenshot, signed_in
from tests.test_quality import DAY, day_of_work  # noqa: F401 - the hand-built day, shared

pytestmark = pytest.mark.browser


def test_qa_draws_the_sample_and_scores_a_call(app, live_server, browser, day_of_work):  # noqa: F811
    factories.user("qa1", ["qa"])
    page = signed_in(browser, live_server, "qa1", width=1400, height=900)
    try:
        page.goto(f"{live_server}/quality/?day={DAY.date().isoformat()}")
        page.click("#draw-form button")
        page.wait_for_selector("text=已抽取")
        assert page.locator("#samples tr[data-sample]").count() >= 4
        screenshot(page, "quality-01-samples")
        page.locator("#samples tr:has(td:text-is('通话')) a").first.click()
        page.check("input[value=inaccurate]")
        page.fill("textarea[name=comment]", "异地就医备案渠道答复不完整")
        page.click("#score-form button")
        page.wait_for_selector("text=质检结果已保存。")
        screenshot(page, "quality-02-scored")
    finally:
        page.context.close()


def test_a_manager_records_a_test_call_and_a_complaint(app, live_server, browser):
    factories.user("li", ["agent"], display_name="李娜")
    factories.user("boss", ["manager"])
    page = signed_in(browser, live_server, "boss", width=1400, height=900)
    try:
        page.goto(f"{live_server}/quality/records?tab=test_calls")
        page.fill("#question-form input[name=question]", "门诊慢特病待遇如何申请？")
        page.fill("#question-form input[name=expected]", "携病历到定点医院鉴定，经办机构审核后享受待遇")
        page.click("#question-form button")
        page.wait_for_selector("text=已登记，并记入审计。")
        page.fill("#test-call-form input[name=called_at]", "2026-12-03T10:30")
        page.select_option("#test-call-form select[name=agent_id]", label="李娜")
        page.select_option("#test-call-form select[name=correct]", "0")
        page.fill("#test-call-form input[name=note]", "未说明鉴定材料")
        page.click("#test-call-form button")
        page.wait_for_selector("#test-calls td:has-text('未说明鉴定材料')")
        screenshot(page, "quality-03-test-calls")
        page.click("text=坐席投诉")
        page.select_option("#complaint-form select[name=agent_id]", label="李娜")
        page.fill("#complaint-form input[name=received_on]", "2026-12-04")
        page.fill("#complaint-form input[name=summary]", "市民反映坐席语气生硬")
        page.check("#complaint-form input[name=attitude]")
        page.click("#complaint-form button")
        page.wait_for_selector("#complaints td:has-text('市民反映坐席语气生硬')")
    finally:
        page.context.close()
