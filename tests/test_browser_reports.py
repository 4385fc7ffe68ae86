"""In Chromium: a manager reads December's service indicators and opens the rows behind one."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import screenshot, signed_in
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
        screenshot(page, "reports-02-detail")
    finally:
        page.context.close()
