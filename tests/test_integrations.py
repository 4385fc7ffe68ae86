"""Integration tokens: the administrator issues one token per system that calls the switch API,
sees it once, and can revoke it alone; the switch's calls are then refused, the others go on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Contact, IntegrationToken
from tests import factories
from tests.conftest import csrf_token


def _event(client, token: str, event_id: str) -> int:
    body = {"source": "pbx2", "event_id": event_id, "kind": "incoming", "call_id": f"call-{event_id}",
            "at": datetime.now(UTC).isoformat(), "data": {"caller": "13800000041"}}
    return client.post("/cti/events", json=body, headers={"Authorization": f"Bearer {token}"}).status_code


def _issue(client, name: str) -> str:
    page = client.post("/admin/integrations", data={"csrf_token": csrf_token(client, "/admin/integrations"),
                                                    "name": name, "scopes": ["cti"]})
    assert page.status_code == 200
    return re.search(r'<code class="token-value">([^<]+)</code>', page.get_data(as_text=True)).group(1)


def test_an_administrator_issues_a_token_per_switch_and_revokes_one_alone(app, client, auth):
    factories.user("admin1", ["admin"])
    auth.login("admin1")
    first, second = _issue(client, "一号交换机"), _issue(client, "二号交换机")
    assert first.startswith("hlt_") and first != second
    rows = db.session.scalars(select(IntegrationToken).order_by(IntegrationToken.id)).all()
    assert [r.name for r in rows] == ["一号交换机", "二号交换机"]
    assert all(first not in (r.token_hash, r.prefix) and len(r.token_hash) == 64 for r in rows)  # kept as a digest
    listing = client.get("/admin/integrations").get_data(as_text=True)
    assert first not in listing and rows[0].prefix in listing  # shown once, then only its start

    assert _event(client, first, "e1") == 200 and _event(client, second, "e2") == 200
    assert _event(client, app.config["CTI_TOKEN"], "e3") == 200  # the installation's token still works
    db.session.expire_all()
    assert db.session.get(IntegrationToken, rows[0].id).last_used_at is not None

    revoke = client.post(f"/admin/integrations/{rows[0].id}/revoke",
                         data={"csrf_token": csrf_token(client, "/admin/integrations")})
    assert revoke.status_code == 302
    assert _event(client, first, "e4") == 401 and _event(client, second, "e5") == 200
    assert _event(client, "hlt_made-up", "e6") == 401 and _event(client, "", "e7") == 401
    assert db.session.scalar(select(Contact.id).where(Contact.call_id == "call-e4")) is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("integration.%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["integration.issue", "integration.issue", "integration.revoke"]


def test_a_token_needs_a_name_and_a_known_interface_and_only_administrators_issue_them(app, client, auth):
    factories.user("admin1", ["admin"])
    factories.user("agent1", ["agent"])
    auth.login("admin1")
    token = csrf_token(client, "/admin/integrations")
    for form in ({"name": "", "scopes": ["cti"]}, {"name": "三号交换机", "scopes": ["everything"]},
                 {"name": "三号交换机"}):
        page = client.post("/admin/integrations", data={"csrf_token": token, **form}).get_data(as_text=True)
        assert "token-value" not in page
    assert db.session.scalar(select(IntegrationToken.id)) is None
    auth.logout()
    auth.login("agent1")
    assert client.get("/admin/integrations").status_code == 403


@pytest.mark.browser
def test_the_administrator_issues_and_revokes_a_token_in_the_browser(app, live_server, browser):
    from tests.conftest import screenshot, signed_in

    factories.user("admin1", ["admin"], display_name="周强")
    page = signed_in(browser, live_server, "admin1")
    page.goto(f"{live_server}/admin/integrations")
    page.fill("input[name=name]", "一号交换机")
    page.check("#issue-form input[value=cti]")  # nothing is ticked for a new token: only what it needs
    page.click("#issue-form button[type=submit]")
    issued = page.inner_text("#issued-token .token-value")
    assert issued.startswith("hlt_")
    screenshot(page, "admin-integrations-01-issued")
    page.on("dialog", lambda dialog: dialog.accept())  # 吊销 asks first (data-confirm)
    page.click("#tokens button.danger")
    page.wait_for_selector("#tokens .badge-off")
    assert "已吊销" in page.inner_text("#tokens") and issued not in page.content()
    screenshot(page, "admin-integrations-02-revoked")
