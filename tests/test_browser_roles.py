"""In a real headless Chromium: each role signs in and sees its own Chinese home page."""

from __future__ import annotations

import pytest

from app.roles import ROLE_LABELS, ROLES
from tests import factories
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, username, password=factories.PASSWORD):
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")  # staff sign in from the keyboard


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_its_home_page(app, live_server, page, role):
    dept = factories.department("DY", "待遇保障科")
    factories.user(f"u_{role}", [role], departments=[dept], display_name="测试员")
    _sign_in(page, live_server, f"u_{role}")
    page.wait_for_selector(f"section[data-role='{role}']")
    assert page.title() == "首页 · 医保服务热线平台"
    assert page.inner_text("h1") == "您好，测试员"
    assert page.inner_text(f"section[data-role='{role}'] h2") == f"{ROLE_LABELS[role]}工作台"
    assert ROLE_LABELS[role] in page.inner_text(".topbar")
    # Every link on the page leads somewhere this role may go.
    for href in page.eval_on_selector_all("main a", "els => els.map(e => e.getAttribute('href'))"):
        assert page.request.get(f"{live_server}{href}").status == 200, href
    screenshot(page, f"home-{role}")


def test_wrong_password_shows_a_chinese_error_in_the_browser(app, live_server, page):
    factories.user("agent1", ["agent"])
    _sign_in(page, live_server, "agent1", "not-the-password1")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    screenshot(page, "login-error")


def test_admin_creates_a_user_in_the_browser(app, live_server, page):
    factories.department("RX", "12393 医保服务热线")
    factories.skill("en", "英语", "language")
    factories.user("admin7", ["admin"])
    _sign_in(page, live_server, "admin7")
    page.click("text=用户管理")
    page.click("text=新建用户")
    page.fill("#username", "agent9")
    page.fill("#display_name", "王强")
    page.check("input[name=roles][value=agent]")
    page.get_by_label("12393 医保服务热线").check()
    page.select_option("select[aria-label='英语 等级']", "3")
    screenshot(page, "admin-user-form")
    page.click("button:has-text('保存')")
    assert "已创建用户 agent9" in page.inner_text(".alert-success")
    page.goto(f"{live_server}/admin/users")
    assert "王强" in page.inner_text("table")
    screenshot(page, "admin-users")
