"""In Chromium: an agent goes ready with F8, a call is queued through the CTI API, the screen pop
arrives pushed (server-sent events), and Alt+Enter opens the intake with the caller's number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from app.extensions import db
from app.models import CallQueue, UserSkill
from tests import factories
from tests.conftest import screenshot, signed_in
from tests.people_helpers import person

pytestmark = pytest.mark.browser


def _event(live_server: str, kind: str, event_id: str, **data) -> dict:
    body = {"source": "kamailio", "event_id": event_id, "kind": kind, "call_id": "sip-call-1",
            "at": datetime.now(UTC).isoformat(), "data": data}
    response = requests.post(f"{live_server}/cti/events", json=body, timeout=10,
                             headers={"Authorization": "Bearer test-cti-token"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_queued_call_pops_up_on_the_ready_agents_screen_and_alt_enter_starts_the_intake(app, live_server, browser):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, ivr_digit="2"))
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()
    person(phones=["13800000001"])
    from tests.loop import COMPLAINT
    from workflows import engine
    from workflows.audit_trail import Actor

    earlier = engine.start_ticket(COMPLAINT, Actor(agent.id, "agent1", "agent"))  # the same caller last week
    page = signed_in(browser, live_server, "agent1")
    try:
        page.goto(f"{live_server}/inbox/")
        page.keyboard.press("F8")  # 示闲
        page.wait_for_selector(".agent-bar.state-ready")
        screenshot(page, "calls-01-agent-ready")
        _event(live_server, "incoming", "e1", caller="13800000001", dialled="12393")
        _event(live_server, "ivr", "e2", digit="2")
        assert _event(live_server, "queued", "e3")["offered_to"] == agent.id
        pop = page.wait_for_selector("#screen-pop")
        assert "13800000001" in pop.inner_text() and "王建国" in pop.inner_text()
        assert "2（待遇报销）" in pop.inner_text()
        assert earlier.number in pop.inner_text() and "关联此来电" in pop.inner_text()
        page.wait_for_selector(".agent-bar.state-reserved")  # the bar was redrawn by the push too
        screenshot(page, "calls-02-screen-pop")
        page.keyboard.press("Alt+Enter")
        page.wait_for_selector("#intake-form")
        assert page.input_value("#f-caller_phone") == "13800000001"
        assert page.input_value("input[name=contact_id]") != ""
        screenshot(page, "calls-03-intake-from-pop")
    finally:
        page.context.close()


def test_a_manager_edits_a_queue_and_a_team_lead_reads_the_call_records(app, live_server, browser):
    skill = factories.skill("benefit", "待遇报销")
    factories.skill("voice", "语音")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, ivr_digit="2"))
    db.session.commit()
    factories.user("manager1", ["manager"], display_name="孙丽")
    factories.user("lead1", ["team_lead"], display_name="赵敏")
    _event(live_server, "incoming", "r1", caller="13800000001")
    _event(live_server, "ivr", "r2", digit="2")
    _event(live_server, "queued", "r3")
    _event(live_server, "hangup", "r4", cause="caller_cancel")
    manager = signed_in(browser, live_server, "manager1")
    manager.goto(f"{live_server}/calls/queues")
    manager.click("text=benefit")
    manager.select_option("#overflow_skill_id", label="语音（voice）")
    manager.fill("#overflow_after_seconds", "45")
    manager.fill("#max_wait_seconds", "150")
    manager.click("button:has-text('保存')")
    manager.wait_for_selector("#queues-table")
    assert "45 秒" in manager.inner_text("#queues-table") and "语音" in manager.inner_text("#queues-table")
    screenshot(manager, "calls-04-queues")
    from app.models import IvrNode

    db.session.add(IvrNode(kind="menu", label="欢迎", prompt="您好，欢迎致电12393医保服务热线。待遇报销请按2。"))
    db.session.commit()
    manager.goto(f"{live_server}/calls/ivr")
    manager.fill("#digit", "2")
    manager.fill("#label", "待遇报销")
    manager.select_option("#kind", value="queue")
    manager.select_option("#queue_id", label="待遇报销")
    manager.fill("#prompt", "正在为您转接人工服务，请稍候。")
    import io
    import wave

    recorded = io.BytesIO()
    with wave.open(recorded, "wb") as track:  # three seconds a manager recorded (here: quiet noise)
        track.setnchannels(1)
        track.setsampwidth(2)
        track.setframerate(8000)
        track.writeframes(bytes((n * 7) % 40 for n in range(48000)))
    manager.set_input_files("#audio", {"name": "转接提示.wav", "mimeType": "audio/wav", "buffer": recorded.getvalue()})
    manager.click("#ivr-form button[type=submit]")
    manager.wait_for_selector("text=语音导航“待遇报销”已保存")
    assert "转人工队列：待遇报销" in manager.inner_text("#ivr-table")
    assert "录音：转接提示.wav（3 秒" in manager.inner_text("#ivr-table")
    screenshot(manager, "calls-06-ivr")
    lead = signed_in(browser, live_server, "lead1")
    lead.goto(f"{live_server}/calls/?filter=abandoned")
    row = lead.inner_text("#calls-table tbody tr")
    assert "13800000001" in row and "放弃" in row and "待遇报销" in row
    screenshot(lead, "calls-05-records")


def test_on_a_call_the_voice_platform_carries_the_agent_consults_a_colleague_from_the_bar(
        app, live_server, browser, media_control):
    """The bar of an agent talking on a bridged call offers 咨询 / 三方 / 转接 with the colleagues;
    咨询 sends the command to the media component and says so."""
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, ivr_digit="2"))
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("expert", ["team_lead"], display_name="张班长")
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()
    page = signed_in(browser, live_server, "agent1")
    try:
        page.goto(f"{live_server}/inbox/")
        page.keyboard.press("F8")
        page.wait_for_selector(".agent-bar.state-ready")
        _event(live_server, "incoming", "t1", caller="13800000002", dialled="12393")
        _event(live_server, "queued", "t2", queue="benefit")
        # The phone rings and the pop is up before anyone answers (if the page's event stream was
        # still connecting when the offer went out, its catch-up brings the pop while still 预占).
        page.wait_for_selector("#screen-pop")
        from app.models import Contact

        db.session.expire_all()
        db.session.scalar(db.select(Contact)).leg_call_id = "leg-1"  # the media component dialled the agent
        db.session.commit()
        _event(live_server, "answered", "t3")
        page.wait_for_selector(".agent-bar.state-talking")
        page.wait_for_selector("button[value=consult]")
        page.locator("#screen-pop .pop-close").click()
        page.select_option("select[name=target]", "expert")
        screenshot(page, "calls-07-talk-controls")
        page.click("button[value=consult]")
        page.wait_for_selector("text=正在呼叫同事")
        assert media_control[0][0] == "/calls/sip-call-1/consult" and media_control[0][1] == {"target": "expert"}
        screenshot(page, "calls-08-consulting")
    finally:
        page.context.close()


@pytest.mark.sip
def test_a_real_sip_call_through_kamailio_pops_up_in_the_agents_chromium(app, live_server, browser, tmp_path):
    """sipp dials 12393; Kamailio asks the platform, the ACD picks the ready agent (signed in in
    Chromium, F8) and rings their baresip phone; the pop arrives pushed, with the caller's number."""
    from tests.sip_peers import Peers, require_peers

    require_peers()
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, dialled_number="12393"))
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()
    peers = Peers(tmp_path, live_server, app.config["CTI_TOKEN"])
    page = signed_in(browser, live_server, "agent1")
    try:
        peers.start_kamailio()
        peers.start_agent_phone("agent1")
        peers.wait_registered(["agent1"])
        page.goto(f"{live_server}/inbox/")
        page.keyboard.press("F8")
        page.wait_for_selector(".agent-bar.state-ready")
        caller = peers.call("uac_queue.xml", caller="13900000009", hold_ms=3000, background=True)
        pop = page.wait_for_selector("#screen-pop")
        assert "13900000009" in pop.inner_text()
        screenshot(page, "calls-09-sip-call-pop")
        assert caller.wait(30) == 0, peers.log("sipp-13900000009.log") + peers.log("kamailio.log")[-3000:]
        page.wait_for_selector(".agent-bar.state-after_call_work")  # pushed again when the caller hung up
    finally:
        peers.stop()
        page.context.close()
