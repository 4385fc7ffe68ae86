"""Every role × every route: allowed, or refused (403 signed in, redirect to login signed out).

The expected answer comes from the one role → permission table; a route that declares no
permission and is not listed as public or sign-in-only fails this test, so no screen can be
added without deciding who may open it.
"""

from __future__ import annotations

import re

import pytest

from app.auth.permissions import ROLE_PERMISSIONS
from app.roles import ROLES
from tests import factories
from tests.conftest import csrf_token

PUBLIC = {"static", "auth.login", "main.healthz", "main.readyz", "api.openapi",
          # the citizens' chat page (no account; tests/test_webchat.py)
          "webchat.page", "webchat.send", "webchat.history", "webchat.stream", "webchat.rate", "webchat.leave",
          # 视频服务, the same page with the picture (tests/test_video_service.py)
          "webchat.video_page", "webchat.video_start", "webchat.video_signal"}
# Called by an integration with its bearer token, never by a signed-in person (the switch:
# tests/test_calls.py, tests/test_kamailio_api.py; the ticket and report API: tests/test_integration_api.py):
# every such view is marked by app.integrations.token_required.
TOKEN_GUARDED = {"calls.events", "calls.kamailio_route", "calls.kamailio_waiting", "calls.kamailio_event",
                 "calls.ivr_next", "calls.ivr_audio", "calls.kamailio_softphone",
                 "api.submit_ticket", "api.ticket_progress", "api.tickets_changed", "api.assessment"}
# Pushed to by WeChat / Weibo, authenticated by the channel's own signature (tests/test_wechat.py):
# every such view is marked `channel_facing`.
CHANNEL_FACING = {"channels.wechat_push", "channels.weibo_push"}
SIGNED_IN_ONLY = {"main.home", "auth.change_password", "auth.logout"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        yield rule, ("GET" if "GET" in methods else "POST")



def _fill(pattern: str, values: dict) -> str:
    for name, value in values.items():
        pattern = re.sub(rf"<(?:\w+:)?{name}>", str(value), pattern)
    return pattern


def _required(app, endpoint: str):
    view = app.view_functions[endpoint]
    return getattr(view, "required_permissions", None)


def test_the_token_guarded_routes_are_exactly_those_behind_a_token(app):
    marked = {rule.endpoint for rule, _ in _routes(app)
              if getattr(app.view_functions[rule.endpoint], "token_scope", None)}
    assert marked == TOKEN_GUARDED


def test_the_channel_facing_routes_are_exactly_those_checking_a_channel_signature(app):
    marked = {rule.endpoint for rule, _ in _routes(app)
              if getattr(app.view_functions[rule.endpoint], "channel_facing", False)}
    assert marked == CHANNEL_FACING


def test_every_route_declares_who_may_use_it(app):
    declared_elsewhere = PUBLIC | SIGNED_IN_ONLY | TOKEN_GUARDED | CHANNEL_FACING
    undeclared = [rule.endpoint for rule, _ in _routes(app)
                  if rule.endpoint not in declared_elsewhere and not _required(app, rule.endpoint)]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_role_reaches_exactly_what_its_permissions_allow(app, client, auth, world, role):
    from app.extensions import db
    from app.models import Department

    factories.user(f"u_{role}", [role], departments=[db.session.get(Department, world["dept_id"])])
    auth.login(f"u_{role}")
    token = csrf_token(client, "/")
    granted = ROLE_PERMISSIONS[role]
    checked = 0
    for rule, method in sorted(_routes(app), key=lambda r: r[0].endpoint == "auth.logout"):
        if rule.endpoint in PUBLIC | TOKEN_GUARDED | CHANNEL_FACING or rule.endpoint == "auth.logout":
            continue
        url = _fill(rule.rule, {k: world[k] for k in rule.arguments})
        required = _required(app, rule.endpoint)
        allowed = required is None or any(p in granted for p in required)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "active": "1"})
        scoped = getattr(app.view_functions[rule.endpoint], "object_scoped", False)
        if allowed:
            # A permitted role may still meet an object-level refusal (department, lane, claim).
            expected = (200, 302, 403, 422) if scoped else (200, 302, 422)
            if response.is_json and "error" in response.json:  # a JSON call refusing the bare form post
                expected = (400, 422)
            assert response.status_code in expected, (role, rule.endpoint, response.status_code)
            if response.status_code == 302:
                assert "/login" not in response.headers["Location"], (role, rule.endpoint)
        else:
            assert response.status_code == 403, (role, rule.endpoint, response.status_code)
            assert "无权访问" in response.get_data(as_text=True)
        checked += 1
    assert checked >= 15


def test_signed_out_visitor_is_sent_to_login_everywhere(app, client, world):
    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC | TOKEN_GUARDED | CHANNEL_FACING:
            continue
        url = _fill(rule.rule, {k: world[k] for k in rule.arguments})
        response = client.get(url) if method == "GET" else client.post(url)
        # POSTs without a session fail CSRF first (400); GETs redirect to the login page.
        if method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"], rule.endpoint
        else:
            assert response.status_code in (302, 400), rule.endpoint


def test_home_page_links_only_to_screens_the_role_may_open(app, client, auth):
    """The auditor's home shows the login log and no admin pages; the admin's shows user management."""
    factories.user("aud", ["auditor"])
    auth.login("aud")
    page = client.get("/").get_data(as_text=True)
    assert "审计员工作台" in page and "/audit/logins" in page
    assert "/admin/users" not in page
