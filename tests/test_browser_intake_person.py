"""Intake in Chromium: the caller's number brings up the insured person registered with it — masked,
the look logged as part of this intake without the number — and one click links the ticket to them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PersonAccess, Ticket
from tests import factories
from tests.conftest import screenshot, signed_in
from tests.people_helpers import person, valid_id

pytestmark = pytest.mark.browser


def test_the_callers_number_finds_the_insured_person_and_links_the_ticket(app, live_server, browser):
    factories.department("DY", "待遇保障科")
    factories.user("agent1", ["agent"], display_name="李娜")
    insured = person("王建国", valid_id(7), phones=["13800000001"])
    page = signed_in(browser, live_server, "agent1", width=1360, height=900)
    page.goto(f"{live_server}/tickets/new")
    page.fill("#f-caller_phone", "13800000001")
    page.press("#f-caller_phone", "Tab")
    page.wait_for_selector(".person-match")
    shown = page.inner_text(".person-lookup")
    assert "王建国" in shown and "**********" in shown and valid_id(7) not in shown
    page.get_by_role("button", name="关联").click()
    assert page.input_value("#f-person_id") == str(insured.id)
    assert "已关联" in page.inner_text(".person-lookup")
    screenshot(page, "intake-person-linked")
    page.select_option("#f-category", "consultation")
    page.fill("#f-subject", "个人账户余额查询")
    page.fill("#f-content", "想查一下个人账户还剩多少钱")
    page.select_option("#f-department_id", label="待遇保障科")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".ticket-number")
    assert db.session.scalar(select(Ticket.person_id)) == insured.id
    look = db.session.scalar(select(PersonAccess).where(PersonAccess.person_id == insured.id))
    assert look.action == "search_hit" and look.context.startswith("call:intake-")
    assert "13800000001" not in (look.context + (look.detail or ""))
