"""Administrators manage accounts: create with a temporary password, roles, departments, skills,
disable, reset."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests import factories
from tests.conftest import csrf_token


def _login_admin(auth):
    factories.user("admin7", ["admin"])
    auth.login("admin7")


def test_admin_creates_an_agent_who_must_change_the_temporary_password(app, client, auth):
    rx = factories.department("RX", "12393 热线")
    en = factories.skill("en", "英语", "language")
    _login_admin(auth)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "agent9", "display_name": "王强", "roles": ["agent"],
        "department_ids": [str(rx.id)], "team_id": "0", f"skill-{en.id}": "4", "phone": "13800000001",
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已创建用户 agent9" in page
    password = re.search(r"临时密码：(\w+)", page).group(1)

    user = db.session.scalars(select(User).where(User.username == "agent9")).one()
    assert user.roles == ["agent"] and [d.code for d in user.departments] == ["RX"]
    assert user.skill_level("en") == 4 and user.must_change_password

    auth.logout()
    first = auth.login("agent9", password)
    assert first.headers["Location"].endswith("/password")


def test_department_handler_without_a_department_is_refused(client, auth):
    """A handler with no department would see no work at all: the form says so and saves nothing."""
    _login_admin(auth)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "handler9", "display_name": "刘洋", "roles": ["dept_handler"], "team_id": "0",
    })
    assert "承办部门经办人必须至少属于一个部门" in response.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.username == "handler9")).first() is None


def test_user_names_are_unique_whatever_the_case(client, auth):
    factories.user("Agent1", ["agent"])
    _login_admin(auth)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "agent1", "display_name": "重名", "roles": ["agent"], "team_id": "0"})
    assert "已被使用" in response.get_data(as_text=True)


def test_admin_changes_roles_and_skills(client, auth):
    en = factories.skill("en", "英语", "language")
    chat = factories.skill("chat", "在线客服", "channel")
    agent = factories.user("agent9", ["agent"], skills={en: 2})
    _login_admin(auth)
    token = csrf_token(client, f"/admin/users/{agent.id}")
    client.post(f"/admin/users/{agent.id}", data={
        "csrf_token": token, "username": "agent9", "display_name": "王强", "roles": ["agent", "team_lead"],
        "team_id": "0", f"skill-{en.id}": "0", f"skill-{chat.id}": "5"})
    db.session.refresh(agent)
    assert agent.roles == ["agent", "team_lead"]
    assert agent.skill_level("en") == 0 and agent.skill_level("chat") == 5


def test_disabling_an_account_signs_its_sessions_out(app, client, auth):
    agent = factories.user("agent9", ["agent"])
    agent_client = app.test_client()
    token = csrf_token(agent_client, "/login")
    agent_client.post("/login", data={"username": "agent9", "password": factories.PASSWORD, "csrf_token": token})
    assert agent_client.get("/").status_code == 200

    _login_admin(auth)
    token = csrf_token(client, f"/admin/users/{agent.id}")
    response = client.post(f"/admin/users/{agent.id}/active", data={"csrf_token": token, "active": "0"},
                           follow_redirects=True)
    assert "已停用 agent9" in response.get_data(as_text=True)
    assert agent_client.get("/").headers["Location"].startswith("/login")


def test_admin_cannot_disable_themselves(client, auth):
    _login_admin(auth)
    admin = db.session.scalars(select(User).where(User.username == "admin7")).one()
    token = csrf_token(client, f"/admin/users/{admin.id}")
    response = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": token, "active": "0"},
                           follow_redirects=True)
    assert "不能停用自己的账户" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_password_reset_gives_a_one_time_password_and_forces_a_change(client, auth):
    agent = factories.user("agent9", ["agent"])
    _login_admin(auth)
    token = csrf_token(client, f"/admin/users/{agent.id}")
    page = client.post(f"/admin/users/{agent.id}/reset-password", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    password = re.search(r"临时密码：(\w+)", page).group(1)
    auth.logout()
    assert "用户名或密码错误" in auth.login("agent9").get_data(as_text=True)  # the old password is gone
    assert auth.login("agent9", password).headers["Location"].endswith("/password")


def test_user_list_filters_by_role_and_department(client, auth):
    dy = factories.department("DY", "待遇保障科")
    factories.user("handler1", ["dept_handler"], departments=[dy], display_name="刘洋")
    factories.user("agent1", ["agent"], display_name="李娜")
    _login_admin(auth)
    page = client.get(f"/admin/users?role=dept_handler&department={dy.id}").get_data(as_text=True)
    assert "刘洋" in page and "李娜" not in page
