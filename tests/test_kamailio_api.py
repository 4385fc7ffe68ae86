"""The questions Kamailio asks the platform (telephony_adapter/sip/kamailio.cfg), over real HTTP
where the platform answers Kamailio back: route, waiting, dialog events, and the rendered config."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CallQueue, Contact, UserSkill
from telephony_adapter import agents
from telephony_adapter.kamailio import KamailioSettings, render_config
from tests import factories
from workflows import clock

TOKEN = {"Authorization": "Bearer test-cti-token"}


@pytest.fixture
def hotline(app):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, dialled_number="12393"))
    li = factories.user("li", ["agent"])
    db.session.add(UserSkill(user_id=li.id, skill_id=skill.id, level=3))
    db.session.commit()
    return li


@pytest.fixture
def fake_kamailio_xhttp(app):
    """A loopback HTTP server standing where Kamailio's xhttp listens, recording /connect requests."""
    seen: list[str] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the library's name
            seen.append(self.path)
            arrived.set()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"connected\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["KAMAILIO_XHTTP_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield seen, arrived
    app.config["KAMAILIO_XHTTP_URL"] = None
    server.shutdown()


def ask(client, path: str, **params) -> tuple[int, str]:
    response = client.get(path, query_string=params, headers=TOKEN)
    return response.status_code, response.get_data(as_text=True).splitlines()[0]


def test_a_call_to_the_hotline_number_is_routed_to_the_ready_agent_and_its_dialog_recorded(client, hotline):
    with clock.frozen_at(clock.now()):
        agents.set_state(hotline.id, "ready", clock.now())
    assert ask(client, "/cti/kamailio/route", call_id="abc@1", caller="13800000001", dialled="12393") == (200, "agent:li")
    assert ask(client, "/cti/kamailio/route", call_id="abc@1", caller="13800000001", dialled="12393") == (200, "agent:li")
    assert ask(client, "/cti/kamailio/event", call_id="abc@1", kind="answered") == (200, "applied")
    assert ask(client, "/cti/kamailio/event", call_id="abc@1", kind="hangup", cause="normal") == (200, "applied")
    call = db.session.scalar(select(Contact).where(Contact.call_id == "abc@1"))
    assert (call.state, call.agent_id, call.queue.code, call.abandoned) == ("ended", hotline.id, "benefit", False)


def test_a_waiting_call_is_connected_through_kamailio_when_the_agent_becomes_ready(client, hotline,
                                                                                   fake_kamailio_xhttp):
    seen, arrived = fake_kamailio_xhttp
    assert ask(client, "/cti/kamailio/route", call_id="w@1", caller="13800000002", dialled="12393") == (200, "wait")
    assert ask(client, "/cti/kamailio/waiting", call_id="w@1", tindex="4711", tlabel="99") == (200, "ok")
    agents.set_state(hotline.id, "ready", clock.now())
    assert arrived.wait(5)
    assert seen == ["/connect?tindex=4711&tlabel=99&agent=li"]


def test_a_caller_who_cancels_while_held_by_kamailio_is_abandoned(client, hotline):
    ask(client, "/cti/kamailio/route", call_id="c@1", caller="13800000003", dialled="12393")
    ask(client, "/cti/kamailio/waiting", call_id="c@1", tindex="1", tlabel="2")
    assert ask(client, "/cti/kamailio/event", call_id="c@1", kind="hangup", cause="caller_cancel") == (200, "applied")
    call = db.session.scalar(select(Contact).where(Contact.call_id == "c@1"))
    assert call.abandoned and call.hangup_cause == "caller_cancel"


@pytest.fixture
def voice_menu(app, hotline):
    from app.models import IvrNode

    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "benefit"))
    root = IvrNode(kind="menu", label="欢迎", prompt="待遇报销请按2。")
    db.session.add(root)
    db.session.flush()
    db.session.add(IvrNode(parent_id=root.id, digit="2", kind="queue", label="待遇报销", queue_id=queue.id, prompt=""))
    db.session.commit()
    app.config["IVR_EXTENSION"] = "ivr"
    yield
    app.config["IVR_EXTENSION"] = None


def test_with_a_voice_menu_the_call_goes_to_the_media_component_whose_second_leg_reaches_the_agent(
        client, hotline, voice_menu):
    """Kamailio relays the caller to the media component (ivr:ivr); after the key it dials
    acd-<contact id>, which the ACD routes like the caller's own INVITE; the leg's events are the
    caller's call's, and no other leg can claim it."""
    agents.set_state(hotline.id, "ready", clock.now())
    assert ask(client, "/cti/kamailio/route", call_id="a@1", caller="13800000001", dialled="12393") == (200, "ivr:ivr")
    call = db.session.scalar(select(Contact).where(Contact.call_id == "a@1"))
    assert call.state == "ivr"
    assert ask(client, "/cti/kamailio/route", call_id="leg@9", caller="ivr", dialled=f"acd-{call.id}") == (200, "reject")
    body = {"source": "kamailio", "call_id": "a@1", "digit": "2"}
    assert client.post("/cti/ivr/next", json=body, headers=TOKEN).get_json()["contact_id"] == call.id
    assert ask(client, "/cti/kamailio/route", call_id="leg@9", caller="ivr", dialled=f"acd-{call.id}") == (200, "agent:li")
    assert ask(client, "/cti/kamailio/route", call_id="other@9", caller="ivr", dialled=f"acd-{call.id}") == (200, "reject")
    assert ask(client, "/cti/kamailio/route", call_id="x@9", caller="ivr", dialled="acd-x1") == (200, "reject")
    assert ask(client, "/cti/kamailio/event", call_id="leg@9", kind="answered") == (200, "applied")
    assert ask(client, "/cti/kamailio/event", call_id="leg@9", kind="hangup", cause="normal") == (200, "applied")
    assert ask(client, "/cti/kamailio/event", call_id="a@1", kind="hangup", cause="normal") == (200, "duplicate")
    db.session.expire_all()
    call = db.session.get(Contact, call.id)
    assert (call.state, call.agent_id, call.leg_call_id, call.ivr_path) == ("ended", hotline.id, "leg@9", "2")
    assert db.session.scalar(select(Contact.id).where(Contact.call_id == "leg@9")) is None  # no second record


def test_kamailio_questions_need_the_token_and_well_formed_values(client, hotline):
    assert client.get("/cti/kamailio/route", query_string={"call_id": "x"}).status_code == 401
    assert ask(client, "/cti/kamailio/route")[0] == 400
    assert ask(client, "/cti/kamailio/waiting", call_id="x", tindex="1;drop", tlabel="2")[0] == 400
    assert ask(client, "/cti/kamailio/event", call_id="x", kind="teleport")[0] == 400
    assert db.session.scalar(select(Contact.id)) is None


def test_the_rendered_configuration_names_the_platform_and_records_when_asked():
    settings = KamailioSettings(5070, 5071, "http://127.0.0.1:8000/", "tok", "12393", "udp:127.0.0.1:2223")
    text = render_config(settings)
    assert "@@" not in text.replace("@@NAME@@", "")  # every placeholder is filled
    assert "listen=udp:127.0.0.1:5070" in text and 'http_client_query("http://127.0.0.1:8000/cti/kamailio/route' in text
    assert "record-call=yes" in text and "Authorization: Bearer tok" in text
    plain = render_config(KamailioSettings(5070, 5071, "http://127.0.0.1:8000", "tok"))
    assert 'loadmodule "rtpengine.so"' not in plain
