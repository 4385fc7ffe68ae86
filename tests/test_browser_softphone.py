"""浏览器软电话 with real peers: an agent who has only a browser (headless Chromium with a fake
microphone) opens the softphone window, which registers with Kamailio over WebSocket; a sipp
caller dials the hotline; the call rings in the page and is answered there; audio flows through
rtpengine both ways (sipp echoes what it hears, so the browser receives its own voice back); the
agent holds, resumes and hangs up from the page, and goes to after-call work. The connection's
quality is kept on the call record."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CallQuality, CallQueue, Contact, ContactEvent, IvrNode, UserSkill
from telephony_adapter import recordings
from tests import factories
from tests.conftest import screenshot, signed_in
from tests.sip_peers import Peers, agent_state, require_peers, wait_until

pytestmark = [pytest.mark.sip, pytest.mark.browser]


@pytest.fixture
def softphone_peers(app, live_server, tmp_path, request):
    require_peers("rtpengine")
    running = Peers(tmp_path, live_server, app.config["CTI_TOKEN"], softphones=True)
    saved = {key: app.config.get(key) for key in ("KAMAILIO_XHTTP_URL", "RECORDINGS_DIR", "SOFTPHONE_WS_URL")}
    app.config.update(KAMAILIO_XHTTP_URL=running.xhttp_url, RECORDINGS_DIR=str(running.recordings),
                      SOFTPHONE_WS_URL=running.websocket_url)
    running.start_rtpengine()
    running.start_kamailio()
    yield running
    running.stop()
    running.tell(request)
    app.config.update(saved)


@pytest.fixture
def benefit_agent(app):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, dialled_number="12393"))
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()
    return agent


def _wait_until(check, timeout: float = 15.0, explain=None):
    return wait_until(check, timeout, explain)



def _call() -> Contact | None:
    db.session.expire_all()
    return db.session.scalar(select(Contact).order_by(Contact.id.desc()))


def test_an_agent_with_only_a_browser_answers_holds_and_ends_a_real_call(softphone_peers, benefit_agent, browser,
                                                                         live_server):
    peers = softphone_peers
    phone = signed_in(browser, live_server, "agent1", width=560, height=760, timeout_ms=20_000)
    try:
        phone.goto(f"{live_server}/calls/softphone")
        phone.wait_for_selector(".softphone-status[data-state=registered]")
        phone.keyboard.press("F8")  # 示闲, on the bar of the same window
        phone.wait_for_selector(".agent-bar.state-ready")
        screenshot(phone, "softphone-01-registered")
        workspace = phone.context.new_page()  # the agent's main window, beside the softphone window
        workspace.set_viewport_size({"width": 1280, "height": 800})
        workspace.goto(f"{live_server}/inbox/")

        caller = peers.call("uac_softphone.xml", caller="13800000021", background=True, echo=True, timeout=60)
        phone.wait_for_selector(".softphone-call[data-phase=ringing]")
        assert "13800000021" in phone.inner_text(".softphone-number")
        assert _call().state == "offered" and agent_state(benefit_agent) == "reserved"
        screenshot(phone, "softphone-02-ringing")
        # The screen pop in the main window offers 接听 while the softphone rings; the softphone answers.
        workspace.wait_for_selector("#screen-pop .pop-answer")
        screenshot(workspace, "softphone-04-pop-answer")
        workspace.click("#screen-pop .pop-answer")
        phone.wait_for_selector(".softphone-call[data-phase=talking]")
        talking = _wait_until(lambda: (c := _call()) and c.state == "talking" and c)
        assert talking.agent_id == benefit_agent.id and agent_state(benefit_agent) == "talking"

        # Audio both ways: the browser's fake microphone reaches sipp, which echoes it back.
        phone.wait_for_function("() => Number(document.querySelector('.softphone-quality').dataset.packetsReceived) > 100",
                                timeout=20_000)
        phone.wait_for_function("() => document.querySelector('.q-grade').textContent !== '—'")
        screenshot(phone, "softphone-03-talking")

        phone.click(".softphone-hold")  # 保持: a re-INVITE through Kamailio, reported to the platform
        phone.wait_for_selector(".softphone-call[data-phase=held]")
        _wait_until(lambda: _call().state == "held")
        assert agent_state(benefit_agent) == "held"
        time.sleep(1.2)
        phone.click(".softphone-hold")  # 恢复
        phone.wait_for_selector(".softphone-call[data-phase=talking]")
        _wait_until(lambda: _call().state == "talking")

        phone.click(".softphone-hangup")
        assert caller.wait(30) == 0, peers.log("sipp-13800000021.log") + peers.log("kamailio.log")[-4000:]
        ended = _wait_until(lambda: (c := _call()) and c.state == "ended" and c)
        assert ended.talk_seconds > 2 and ended.hold_seconds >= 1.0 and not ended.abandoned
        assert _wait_until(lambda: agent_state(benefit_agent) == "after_call_work")
        phone.wait_for_selector(".agent-bar.state-after_call_work")
        assert workspace.query_selector("#screen-pop .pop-answer") is None  # the call no longer rings
        kinds = db.session.scalars(select(ContactEvent.kind).where(ContactEvent.contact_id == ended.id,
                                                                   ContactEvent.outcome == "applied")).all()
        assert {"answered", "held", "resumed", "hangup"} <= set(kinds)

        # The connection's quality, measured by the browser, is kept on the call.
        quality = _wait_until(lambda: db.session.get(CallQuality, ended.id))
        assert quality.agent_id == benefit_agent.id and quality.samples >= 2
        assert quality.packets_received > 100 and quality.rtt_ms is not None

        # rtpengine recorded the call by its Call-ID, as for a desk phone: RTP counted in the file.
        recorded = _wait_until(lambda: _call().recording)
        pcap = recordings.resolve(peers.recordings, recorded).read_bytes()
        assert sum(1 for _ in recordings._packets(pcap)) > 100

        # The team lead reads the call's connection quality in 来电记录.
        factories.user("lead1", ["team_lead"], display_name="赵敏")
        lead = signed_in(browser, live_server, "lead1")
        lead.goto(f"{live_server}/calls/")
        row = lead.locator("#calls-table tbody tr", has_text="13800000021")
        assert row.locator(".badge.quality-good").inner_text() == "良好"
        screenshot(lead, "softphone-05-call-records")
    finally:
        phone.context.close()


@pytest.fixture
def voice_menu_and_colleague(app, softphone_peers, benefit_agent):
    """The voice menu (2 → 待遇报销) answered by the media component; agent2, a colleague with a desk
    phone (baresip, answers by itself) who knows the queue too."""
    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "benefit"))
    root = IvrNode(kind="menu", label="主菜单", prompt="您好，欢迎致电医保服务热线。待遇报销请按2。")
    db.session.add(root)
    db.session.flush()
    db.session.add(IvrNode(parent_id=root.id, digit="2", kind="queue", label="待遇报销", queue_id=queue.id,
                           prompt="正在为您转接待遇报销坐席。"))
    colleague = factories.user("agent2", ["agent"], display_name="王芳")
    db.session.add(UserSkill(user_id=colleague.id, skill_id=queue.skill_id, level=3))
    db.session.commit()
    softphone_peers.start_agent_phone("agent2")
    softphone_peers.wait_registered(["agent2"])
    app.config["IVR_EXTENSION"] = "ivr"
    softphone_peers.start_media("ivr")
    app.config["MEDIA_CONTROL_URL"] = softphone_peers.media_control_url
    yield colleague
    app.config["IVR_EXTENSION"] = app.config["MEDIA_CONTROL_URL"] = None


def test_an_agent_on_the_softphone_transfers_a_caller_from_the_voice_menu_to_a_colleague(
        softphone_peers, benefit_agent, voice_menu_and_colleague, browser, live_server):
    """The caller keys 2 in the voice menu; the media component's leg rings agent1's browser, who
    answers there; from the workspace's agent bar agent1 consults agent2 and transfers the caller;
    the softphone's leg ends and agent1 goes to after-call work; agent2 hangs up and the caller's
    survey key reaches the call."""
    peers, colleague = softphone_peers, voice_menu_and_colleague
    phone = signed_in(browser, live_server, "agent1", width=560, height=760, timeout_ms=20_000)
    try:
        phone.goto(f"{live_server}/calls/softphone")
        phone.wait_for_selector(".softphone-status[data-state=registered]")
        workspace = phone.context.new_page()
        workspace.set_viewport_size({"width": 1280, "height": 800})
        workspace.goto(f"{live_server}/inbox/")
        workspace.keyboard.press("F8")
        workspace.wait_for_selector(".agent-bar.state-ready")
        _wait_until(lambda: agent_state(benefit_agent) == "ready")
        caller = peers.call("uac_ivr_survey.xml", caller="13800000022", hold_ms=20000, timeout=60, background=True,
                            echo=True)
        phone.wait_for_selector(".softphone-call[data-phase=ringing]")
        phone.click(".softphone-answer")
        talking = _wait_until(lambda: (c := _call()) and c.state == "talking" and c)
        assert talking.leg_call_id and (talking.ivr_path, talking.agent_id) == ("2", benefit_agent.id)
        phone.wait_for_function("() => Number(document.querySelector('.softphone-quality').dataset.packetsReceived) > 50",
                                timeout=20_000)

        # 咨询 then 转接 from the bar of the main window (the media component mixes and hands over).
        workspace.wait_for_selector("#agent-bar .agent-talk")
        workspace.select_option("#agent-bar select[name=target]", "agent2")
        workspace.click("#agent-bar button[value=consult]")
        _wait_until(lambda: "Call established" in peers.log("phone-agent2.log"),
                    explain=lambda: "the page says: " + " | ".join(workspace.locator(".alert").all_inner_texts()))
        workspace.wait_for_selector("#agent-bar button[value=transfer]")
        workspace.click("#agent-bar button[value=transfer]")
        _wait_until(lambda: _call().agent_id == colleague.id)
        phone.wait_for_selector(".softphone-idle:not([hidden])")  # agent1's leg is over
        _wait_until(lambda: agent_state(benefit_agent) == "after_call_work")
        assert agent_state(colleague) == "talking"
        time.sleep(1.0)
        peers.hang_up_phone("agent2")
        assert caller.wait(60) == 0, peers.log("sipp-13800000022.log") + peers.log("media.log")[-4000:]
        ended = _wait_until(lambda: (c := _call()) and c.survey_score and c)
        assert (ended.agent_id, ended.state, ended.survey_score) == (colleague.id, "ended", 1)
        assert db.session.get(CallQuality, ended.id).agent_id == benefit_agent.id  # agent1's part, measured
    finally:
        phone.context.close()


def test_an_agent_consults_a_team_lead_on_the_softphone_and_transfers_the_caller_to_them(
        softphone_peers, benefit_agent, voice_menu_and_colleague, browser, live_server, client, auth):
    """The other way round: agent2 takes the call on a desk phone and consults team lead 赵敏, who has
    only a browser; Kamailio bridges the media component's plain RTP to the lead's WebRTC; the lead
    answers in the softphone, takes the transferred caller and hangs up there."""
    from tests.conftest import csrf_token
    from tests.test_sip_calls import _ready

    peers, agent2 = softphone_peers, voice_menu_and_colleague
    lead = factories.user("lead1", ["team_lead"], display_name="赵敏")
    phone = signed_in(browser, live_server, "lead1", width=560, height=760, timeout_ms=20_000)
    try:
        phone.goto(f"{live_server}/calls/softphone")
        phone.wait_for_selector(".softphone-status[data-state=registered]")
        _ready(agent2)
        caller = peers.call("uac_ivr_survey.xml", caller="13800000023", hold_ms=20000, timeout=60, background=True,
                            echo=True)
        talking = _wait_until(lambda: (c := _call()) and c.state == "talking" and c, timeout=20)
        assert talking.agent_id == agent2.id
        auth.login("agent2")
        token = csrf_token(client, "/")

        def press(action: str, **form) -> None:
            response = client.post(f"/calls/contacts/{talking.id}/talk", headers={"Accept": "application/json"},
                                   data={"csrf_token": token, "action": action, **form})
            assert response.status_code == 200, (response.get_json(), peers.log("media.log")[-3000:])

        press("consult", target="lead1")
        phone.wait_for_selector(".softphone-call[data-phase=ringing]")
        phone.click(".softphone-answer")
        phone.wait_for_function("() => Number(document.querySelector('.softphone-quality').dataset.packetsReceived) > 20",
                                timeout=20_000)
        press("transfer")
        _wait_until(lambda: _call().agent_id == lead.id)
        assert agent_state(agent2) == "after_call_work" and agent_state(lead) == "talking"
        phone.click(".softphone-hangup")
        assert caller.wait(60) == 0, peers.log("sipp-13800000023.log") + peers.log("media.log")[-4000:]
        ended = _wait_until(lambda: (c := _call()) and c.survey_score and c)
        assert (ended.agent_id, ended.state, ended.survey_score) == (lead.id, "ended", 1)
        assert agent_state(lead) == "after_call_work"
    finally:
        phone.context.close()


def test_a_browser_without_the_platforms_token_cannot_register(softphone_peers, benefit_agent, client, auth):
    """Kamailio asks the platform about every browser registration; a made-up token is refused."""
    from telephony_adapter import softphone

    with client.application.test_request_context():
        good = softphone.credentials(benefit_agent)["token"]
    headers = {"Authorization": f"Bearer {client.application.config['CTI_TOKEN']}"}
    answer = client.get("/cti/kamailio/softphone", query_string={"user": "agent1", "token": good}, headers=headers)
    assert answer.get_data(as_text=True).strip() == "ok"
    for user, token in (("agent1", "forged"), ("agent2", good), ("agent1", "")):
        answer = client.get("/cti/kamailio/softphone", query_string={"user": user, "token": token}, headers=headers)
        assert answer.get_data(as_text=True).strip() == "no"
