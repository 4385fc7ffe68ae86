"""浏览器软电话 at the platform's edge: the token a browser registers with, the Kamailio set-up that
lets browsers in, and the connection quality each call keeps. (The real call in Chromium through
Kamailio and rtpengine: tests/test_browser_softphone.py.)"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CallQuality
from telephony_adapter.kamailio import KamailioSettings, render_config
from tests import factories
from tests.conftest import csrf_token
from tests.test_calls import TOKEN, answered_call, at, centre, event  # noqa: F401 - centre is a fixture
from workflows import clock

WS_URL = "wss://sip.hotline.example/ws"


@pytest.fixture
def softphone_on(app):
    saved = app.config.get("SOFTPHONE_WS_URL")
    app.config["SOFTPHONE_WS_URL"] = WS_URL
    yield
    app.config["SOFTPHONE_WS_URL"] = saved


def _page_config(client) -> dict:
    page = client.get("/calls/softphone")
    assert page.status_code == 200
    found = re.search(r'data-config="([^"]+)"', page.get_data(as_text=True))
    return json.loads(html.unescape(found.group(1)))


def _kamailio_asks(client, user: str, token: str) -> str:
    answer = client.get("/cti/kamailio/softphone", query_string={"user": user, "token": token}, headers=TOKEN)
    assert answer.status_code == 200
    return answer.get_data(as_text=True).strip()


def test_an_agent_opens_the_softphone_and_kamailio_lets_only_that_agent_register_with_its_token(
        client, auth, centre, softphone_on):  # noqa: F811
    auth.login("li")
    config = _page_config(client)
    assert config["ws_url"] == WS_URL and config["uri"] == "sip:li@127.0.0.1"
    assert _kamailio_asks(client, "li", config["token"]) == "ok"
    assert _kamailio_asks(client, "wang", config["token"]) == "no"  # li's token is not wang's
    assert _kamailio_asks(client, "li", config["token"][:-2] + "xx") == "no"
    assert _kamailio_asks(client, "li", "") == "no"
    assert client.get("/cti/kamailio/softphone", query_string={"user": "li", "token": config["token"]}).status_code == 401
    # An agent whose account is switched off loses the phone at the next registration.
    centre["li"].active = False
    db.session.commit()
    assert _kamailio_asks(client, "li", config["token"]) == "no"


def test_a_role_that_takes_no_calls_has_no_softphone_and_without_kamailio_the_page_says_so(client, auth, centre):  # noqa: F811
    factories.user("qa1", ["qa"])
    auth.login("qa1")
    assert client.get("/calls/softphone").status_code == 403
    auth.logout()
    auth.login("li")
    refused = client.get("/calls/softphone", follow_redirects=True)
    assert "未配置浏览器软电话" in refused.get_data(as_text=True)


def _sample(client, token: str, **body):
    return client.post("/calls/softphone/quality", data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": token})


def test_the_softphone_reports_are_kept_per_call_graded_and_shown_in_the_call_records(
        client, auth, centre, softphone_on):  # noqa: F811
    call = answered_call(client, auth, centre["li"])
    token = csrf_token(client, "/calls/softphone")
    first = _sample(client, token, call_id="c1", packets_received=150, packets_lost=0, jitter_ms=4.0, rtt_ms=40.0)
    assert first.status_code == 200 and first.get_json()["grade"] == "good"
    # A bad stretch: loss climbs to 4 %, jitter to 45 ms — 一般.
    worse = _sample(client, token, call_id="c1", packets_received=288, packets_lost=12, jitter_ms=45.0, rtt_ms=120.0)
    shown = worse.get_json()
    assert (shown["grade"], shown["grade_label"], shown["loss_pct"], shown["jitter_ms"]) == ("fair", "一般", 4.0, 24.5)
    # A late report (older, smaller counts) lowers nothing; the round trip may be unknown.
    assert _sample(client, token, call_id="c1", packets_received=100, packets_lost=1, jitter_ms=5.0).status_code == 200
    row = db.session.get(CallQuality, call.id)
    assert (row.samples, row.packets_received, row.packets_lost, row.rtt_samples) == (3, 288, 12, 2)
    assert row.jitter_ms_max == 45.0 and round(row.jitter_ms, 2) == round((4 + 45 + 5) / 3, 2) and row.rtt_ms == 80.0
    auth.logout()
    factories.user("lead1", ["team_lead"])
    auth.login("lead1")
    records = client.get("/calls/").get_data(as_text=True)
    assert "quality-fair" in records and "4.0% / 18.0 ms / 80 ms" in records


def test_quality_reports_are_refused_for_someone_elses_call_after_it_ended_or_when_malformed(
        client, auth, centre, softphone_on):  # noqa: F811
    answered_call(client, auth, centre["li"])
    token = csrf_token(client, "/calls/softphone")
    good = {"call_id": "c1", "packets_received": 10, "packets_lost": 0, "jitter_ms": 1.0}
    for broken in ({**good, "packets_lost": -1}, {**good, "jitter_ms": "fast"}, {**good, "call_id": ""},
                   {**good, "packets_received": True}, {**good, "call_id": "nobody-answered-this"}):
        refused = _sample(client, token, **broken)
        assert refused.status_code == 422 and refused.get_json()["error"]
    assert client.post("/calls/softphone/quality", data="[]", content_type="application/json",
                       headers={"X-CSRFToken": token}).status_code == 422
    auth.logout()
    auth.login("wang")  # not wang's call
    assert _sample(client, csrf_token(client, "/calls/softphone"), **good).status_code == 422
    event(client, "hangup", "c1", 60, cause="normal")
    auth.logout()
    auth.login("li")
    token = csrf_token(client, "/calls/softphone")
    with clock.frozen_at(at(60) + timedelta(seconds=30)):  # the last report, just after the caller hung up
        assert _sample(client, token, **good).status_code == 200
    with clock.frozen_at(at(60) + timedelta(minutes=10)):
        assert _sample(client, token, **good).status_code == 422
    assert db.session.scalar(select(CallQuality.samples)) == 1


def test_kamailio_takes_browsers_on_a_websocket_port_only_with_rtpengine_to_bridge_their_media():
    with pytest.raises(ValueError, match="rtpengine"):
        KamailioSettings(5070, 5071, "http://127.0.0.1:8000", "tok", websocket_port=5072)
    text = render_config(KamailioSettings(5070, 5071, "http://127.0.0.1:8000", "tok",
                                          rtpengine_socket="udp:127.0.0.1:2223", websocket_port=5072))
    assert "listen=tcp:127.0.0.1:5072" in text and 'loadmodule "websocket.so"' in text
    assert "ws_handle_handshake()" in text and "/cti/kamailio/softphone?" in text
    assert "transport-protocol=UDP/TLS/RTP/SAVPF" in text and "ICE=remove" in text
    without = render_config(KamailioSettings(5070, 5071, "http://127.0.0.1:8000", "tok"))
    assert 'loadmodule "websocket.so"' not in without and "ws_handle_handshake" not in without
