"""The integration API's OpenAPI document: every token-guarded route is in it, and schemathesis
generates requests from it against the running app (in process): no answer may be a server error,
and every answer must be one the document describes (status, content type, body)."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.integrations import issue
from app.models.security import INTEGRATION_SCOPES
from tests import factories
from tests.test_permission_matrix import TOKEN_GUARDED
from workflows import clock

TOKEN = {"Authorization": "Bearer test-cti-token"}
CITIZEN_CHAT = {"webchat.send", "webchat.history", "webchat.rate", "webchat.leave"}  # the citizen page's JSON


def test_every_json_route_an_integration_or_a_citizens_page_calls_is_described(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.0") and document["components"]["securitySchemes"]["bearer"]
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in TOKEN_GUARDED | CITIZEN_CHAT or rule.rule.startswith("/video/"):
            continue  # 视频服务's /video/… twins of the chat calls are said in the chat tag's description
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in described, f"{method} {path} is not in the OpenAPI document"


def test_the_api_answers_every_generated_request_as_documented(app):
    """Driven with hypothesis directly (schemathesis's own pytest plugin does not load under this
    pytest): up to 40 requests per operation, valid and not, with a token holding every scope."""
    admin = factories.user("admin1", ["admin"])
    _, secret = issue("schemathesis", sorted(INTEGRATION_SCOPES), admin, None, clock.now())
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    # Text with NUL is refused at the edge (400, as the document says) whatever the operation's
    # schema allows; such requests are not "valid data", and test_text_no_database… covers them.
    schema.config.generation.update(allow_x00=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 15
    visitor = app.test_client()  # a citizen with the chat page open: its cookie and CSRF token
    page = visitor.get("/chat/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    cookie = visitor.get_cookie("hotline_session").value
    for operation in operations:
        # Kamailio's event needs `seq` exactly for held / resumed, which a query parameter's schema
        # cannot say; its 400 for a hold without one is the contract, not a rejected valid request.
        # A ticket's intake form lives in the process version (a manager may change it), so the
        # document cannot promise that every well-formed submission is one the process accepts.
        excluded = [positive_data_acceptance] if operation.path in ("/cti/kamailio/event", "/api/v1/tickets") else []
        if operation.path.startswith("/chat/"):
            _exercise(operation, excluded, {"X-CSRFToken": csrf}, {"hotline_session": cookie})
        else:
            _exercise(operation, excluded, {"Authorization": f"Bearer {secret}"})


def _exercise(operation, excluded: list, headers: dict, cookies: dict | None = None) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        if cookies:
            case.cookies = {**(case.cookies or {}), **cookies}
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    answers_as_documented()


def test_text_no_database_could_store_is_refused_at_the_edge(client):
    """JSON may carry a lone surrogate (schemathesis sends them); such an event is refused with 400
    before it reaches a text column, on SQLite and PostgreSQL alike."""
    body = {"source": "pbx1", "event_id": "e\ud800", "kind": "incoming", "call_id": "c1",
            "at": "2026-12-07T09:00:00+08:00", "data": {}}
    refused = client.post("/cti/events", json=body, headers=TOKEN)
    assert refused.status_code == 400 and "无效字符" in refused.get_json()["error"]
    body.update(event_id="e1", data={"caller": "138\udfff"})
    assert client.post("/cti/events", json=body, headers=TOKEN).status_code == 400


def test_not_blank_in_the_document_means_what_str_strip_means():
    """The document's "holds more than white space" pattern is spelled out because ECMA's \\s and
    Python's str.strip() disagree (\\x1c–\\x1f, \\x85); every character str.strip() removes is out."""
    from app.api.openapi import NOT_BLANK

    pattern = re.compile(NOT_BLANK)
    assert not [hex(c) for c in range(0x110000) if chr(c).isspace() and pattern.search(chr(c))]
    assert pattern.search("\ufeff有") and pattern.search("x")
