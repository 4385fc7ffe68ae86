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
