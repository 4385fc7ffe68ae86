"""Signing in: lock-out, throttling, forced password change, sessions, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LoginEvent, User
from app.models.types import utcnow
from app.redis_client import get_redis
from tests import factories
from tests.conftest import csrf_token


def test_agent_signs_in_and_lands_on_home(client, auth):
    """An agent with the right password reaches the home page; the sign-in is recorded."""
    factories.user("agent7", ["agent"], display_name="李娜")
    response = auth.login("agent7", follow=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "您好，李娜" in page and "坐席工作台" in page
    event = db.session.scalars(select(LoginEvent).where(LoginEvent.username == "agent7")).one()
    assert event.outcome == "success" and event.ip == "127.0.0.1"


def test_user_name_is_case_insensitive(client, auth):
    """Staff type their user name as they like; the account is the same."""
    factories.user("agent7", ["agent"])
    assert auth.login("AGENT7").status_code == 302


def test_wrong_password_says_how_many_tries_are_left(client, auth):
    factories.user("agent7", ["agent"])
    response = auth.login("agent7", "wrong-password1")
    assert response.status_code == 401
    assert "再错 4 次账户将被临时锁定" in response.get_data(as_text=True)


def test_unknown_user_gets_the_same_message_as_a_wrong_password(client, auth):
    response = auth.login("nobody", "whatever1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert db.session.scalars(select(LoginEvent.outcome)).all() == ["unknown_user"]


def test_five_wrong_passwords_lock_the_account_until_the_lock_expires(client, auth, monkeypatch):
    """After 5 failures even the right password is refused, in Chinese, until the lock runs out."""
    factories.user("agent7", ["agent"])
    for _ in range(4):
        auth.login("agent7", "wrong-password1")
    fifth = auth.login("agent7", "wrong-password1").get_data(as_text=True)
    assert "账户已临时锁定" in fifth

    refused = auth.login("agent7")  # the right password
    assert refused.status_code == 401
    assert "账户已临时锁定，请于" in refused.get_data(as_text=True)
    user = db.session.scalars(select(User).where(User.username == "agent7")).one()
    assert user.locked_until is not None
    assert user.locked_until - utcnow() > timedelta(minutes=14)

    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr("app.auth.services.utcnow", lambda: later)
    assert auth.login("agent7").status_code == 302
    outcomes = db.session.scalars(select(LoginEvent.outcome).order_by(LoginEvent.id)).all()
    assert outcomes == ["bad_password"] * 5 + ["locked", "success"]


def test_admin_unlocks_a_locked_account(client, auth):
    factories.user("admin7", ["admin"])
    locked = factories.user("agent7", ["agent"])
    locked.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    auth.login("admin7")
    token = csrf_token(client, f"/admin/users/{locked.id}")
    response = client.post(f"/admin/users/{locked.id}/unlock", data={"csrf_token": token}, follow_redirects=True)
    assert "已解除 agent7 的登录锁定" in response.get_data(as_text=True)
    db.session.refresh(locked)
    assert locked.locked_until is None


def test_one_address_spraying_passwords_is_throttled(app, client, auth, monkeypatch):
    """Many failures from one address, over any user names, stop further attempts from it."""
    monkeypatch.setitem(app.config, "LOGIN_IP_MAX_FAILURES", 3)
    factories.user("agent7", ["agent"])
    for name in ("a1", "a2", "a3"):
        auth.login(name, "guess12345")
    assert int(get_redis().get("hotline:login-failures:127.0.0.1")) == 3
    response = auth.login("agent7")  # even a valid login from that address waits
    assert response.status_code == 401
    assert "登录尝试过于频繁" in response.get_data(as_text=True)


def test_disabled_account_cannot_sign_in(client, auth):
    user = factories.user("agent7", ["agent"])
    user.active = False
    db.session.commit()
    response = auth.login("agent7")
    assert "账户已停用" in response.get_data(as_text=True)


def test_created_user_must_change_password_before_anything_else(client, auth):
    """A new account's first sign-in leads to the password page, and every other page waits."""
    factories.user("newbie", ["agent"], must_change=True)
    response = auth.login("newbie")
    assert response.headers["Location"].endswith("/password")
    assert client.get("/").headers["Location"].endswith("/password")

    token = csrf_token(client, "/password")
    weak = client.post("/password", data={"csrf_token": token, "current_password": factories.PASSWORD,
                                          "new_password": "short", "confirm_password": "short"})
    assert "密码至少 8 位" in weak.get_data(as_text=True)

    done = client.post("/password", data={"csrf_token": token, "current_password": factories.PASSWORD,
                                          "new_password": "Hotline2026", "confirm_password": "Hotline2026"})
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    user = db.session.scalars(select(User).where(User.username == "newbie")).one()
    db.session.refresh(user)
    assert user.must_change_password is False


def test_changing_the_password_signs_out_other_sessions(app, client, auth):
    """A stolen session stops working once its owner changes the password."""
    factories.user("agent7", ["agent"])
    other = app.test_client()
    token = csrf_token(other, "/login")
    other.post("/login", data={"username": "agent7", "password": factories.PASSWORD, "csrf_token": token})
    assert other.get("/").status_code == 200

    auth.login("agent7")
    token = csrf_token(client, "/password")
    client.post("/password", data={"csrf_token": token, "current_password": factories.PASSWORD,
                                   "new_password": "Hotline2026", "confirm_password": "Hotline2026"})
    assert client.get("/").status_code == 200  # this session carries on
    assert other.get("/").headers["Location"].startswith("/login")  # the other one is gone


def test_login_refuses_a_post_without_csrf_token(client):
    """A form posted from another site (no CSRF token) is refused with a Chinese explanation."""
    factories.user("agent7", ["agent"])
    response = client.post("/login", data={"username": "agent7", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "表单校验失败" in response.get_data(as_text=True)
    assert db.session.scalars(select(LoginEvent)).all() == []


def test_admin_form_refuses_a_post_without_csrf_token(client, auth):
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    response = client.post("/admin/users/new", data={"username": "intruder", "display_name": "x", "roles": "admin"})
    assert response.status_code == 400
    assert db.session.scalars(select(User).where(User.username == "intruder")).first() is None


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(client, target):
    factories.user("agent7", ["agent"])
    token = csrf_token(client, "/login")
    response = client.post(f"/login?next={target}",
                           data={"username": "agent7", "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_logout_ends_the_session(client, auth):
    factories.user("agent7", ["agent"])
    auth.login("agent7")
    auth.logout()
    assert client.get("/").headers["Location"].startswith("/login")


def test_session_cookie_flags_come_from_configuration(app, client, auth):
    factories.user("agent7", ["agent"])
    cookie = auth.login("agent7").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_session_ends_after_a_shift_and_the_agent_signs_in_again(app, client, auth):
    """HOTLINE_SESSION_HOURS (12) after signing in, the session is over even if the browser kept the
    cookie: a page sends the agent to the sign-in page with the reason, a script's request gets 401."""
    from app.auth.services import SIGNED_IN_AT

    factories.user("agent1", ["agent"])
    auth.login("agent1")
    assert client.get("/inbox/").status_code == 200
    with client.session_transaction() as session:
        assert session.permanent  # the cookie carries its own expiry
        session[SIGNED_IN_AT] -= 11 * 3600
    assert client.get("/inbox/").status_code == 200  # eleven hours in: still signed in
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] -= 2 * 3600
    refused = client.get("/inbox/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert "登录已超过 12 小时" in client.get("/login").get_data(as_text=True)
    assert client.get("/inbox/").status_code == 302  # signed out for good, not just once
    auth.login("agent1")
    assert client.get("/inbox/").status_code == 200
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] -= 13 * 3600
    assert client.get("/calls/presence", headers={"Accept": "application/json"}).status_code == 401


def test_every_page_forbids_inline_script_and_foreign_framing(app, client, auth):
    """The Content-Security-Policy: scripts only from the platform's files, framed only by itself;
    the softphone's WebSocket is the one other address a page may reach."""
    import re
    from pathlib import Path

    page = client.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-eval" not in policy and "connect-src 'self';" in policy
    saved = app.config.get("SOFTPHONE_WS_URL")
    app.config["SOFTPHONE_WS_URL"] = "wss://sip.hotline.example/ws"
    try:
        assert "connect-src 'self' wss://sip.hotline.example;" in client.get("/login").headers["Content-Security-Policy"]
    finally:
        app.config["SOFTPHONE_WS_URL"] = saved
    # Nothing in the templates would run under that policy's refusal: no handlers in attributes, no
    # inline code (JSON data blocks are data, never run).
    templates = Path(app.root_path) / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\son[a-z]+=", text), path
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
