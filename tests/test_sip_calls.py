"""Real calls on loopback: sipp callers dial the hotline through Kamailio, which asks the platform
(the live test server) which agent's baresip phone to ring; the phones answer by themselves."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, CallQueue, Contact, IvrNode, UserSkill
from telephony_adapter import agents
from tests import factories
from tests.sip_peers import PROMPT_CACHE, Peers, agent_state, require_peers, wait_until
from workflows import clock

pytestmark = pytest.mark.sip


@pytest.fixture
def peers(app, live_server, tmp_path, request):
    require_peers()
    running = Peers(tmp_path, live_server, app.config["CTI_TOKEN"])
    app.config["KAMAILIO_XHTTP_URL"] = running.xhttp_url
    running.start_kamailio()
    yield running
    running.stop()
    running.tell(request)
    app.config["KAMAILIO_XHTTP_URL"] = None


@pytest.fixture
def staffed(app):
    """The 12393 number goes to the 待遇报销 queue; three agents know it."""
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, dialled_number="12393"))
    people = [factories.user(name, ["agent"]) for name in ("agent1", "agent2", "agent3")]
    db.session.add_all([UserSkill(user_id=p.id, skill_id=skill.id, level=3) for p in people])
    db.session.commit()
    return people


def _ready(user) -> None:
    agents.set_state(user.id, "ready", clock.now())
    time.sleep(0.02)  # distinct idle times


def _calls() -> list[Contact]:
    db.session.expire_all()
    return db.session.scalars(select(Contact).order_by(Contact.id)).all()


def test_a_real_call_rings_the_longest_idle_agent_who_is_not_in_after_call_work(peers, staffed):
    a1, a2, a3 = staffed
    for user in staffed:
        peers.start_agent_phone(user.username)
    peers.wait_registered([u.username for u in staffed])
    _ready(a1)
    _ready(a2)
    _ready(a3)
    first = peers.call("uac_queue.xml", caller="13800000001")
    assert first.returncode == 0, first.stdout.decode() + peers.log("kamailio.log")[-3000:]
    [call] = wait_until(lambda: [c for c in _calls() if c.state == "ended"])
    assert call.agent_id == a1.id and call.talk_seconds > 1 and not call.abandoned
    assert agent_state(a1) == "after_call_work"  # 整理: skipped by the next call
    second = peers.call("uac_queue.xml", caller="13800000002")
    assert second.returncode == 0, second.stdout.decode()
    calls = wait_until(lambda: [c for c in _calls() if c.state == "ended"][1:] and _calls())
    assert calls[1].agent_id == a2.id


def test_with_nobody_ready_kamailio_holds_the_call_until_an_agent_presses_ready(peers, staffed):
    a1 = staffed[0]
    peers.start_agent_phone(a1.username)
    peers.wait_registered([a1.username])
    caller = peers.call("uac_queue.xml", caller="13800000003", background=True)
    waiting = wait_until(lambda: [c for c in _calls() if c.state == "queued" and c.switch_ref])
    assert waiting[0].queue.code == "benefit"
    time.sleep(1.0)  # the caller hears 182 Queued meanwhile
    _ready(a1)
    assert caller.wait(30) == 0, peers.log("sipp-13800000003.log") + peers.log("kamailio.log")[-3000:]
    [call] = wait_until(lambda: [c for c in _calls() if c.state == "ended"])
    assert call.agent_id == a1.id and call.wait_seconds >= 1.0 and not call.abandoned


def test_a_caller_who_hangs_up_while_held_is_recorded_as_abandoned(peers, staffed):
    caller = peers.call("uac_gives_up.xml", caller="13800000004", hold_ms=1200)
    assert caller.returncode == 0, caller.stdout.decode() + peers.log("kamailio.log")[-3000:]
    [call] = wait_until(lambda: [c for c in _calls() if c.state == "ended"])
    assert call.abandoned and call.hangup_cause == "caller_cancel" and call.wait_seconds >= 1.0


def test_a_call_for_an_agent_whose_phone_is_unplugged_is_refused_at_once_and_they_are_set_busy(peers, staffed):
    """agent1 pressed 示闲 but their desk phone is unplugged. The caller hears 480 at once rather
    than ringing into silence, the call ends as 坐席话机未注册, agent1 is set 示忙（话机未注册）,
    and the next caller goes to agent2, whose phone works."""
    a1, a2, _ = staffed
    peers.start_agent_phone(a2.username)
    peers.wait_registered([a2.username])
    _ready(a1)  # idle longest: the ACD offers the first call to agent1
    _ready(a2)
    started = time.monotonic()
    refused = peers.call("uac_refused.xml", caller="13800000005", timeout=15)
    assert refused.returncode == 0, refused.stdout.decode() + peers.log("kamailio.log")[-3000:]
    assert time.monotonic() - started < 5  # answered, not retransmitted until sipp gave up
    [call] = wait_until(lambda: [c for c in _calls() if c.state == "ended"])
    assert call.agent_id == a1.id and call.hangup_label == "坐席话机未注册" and call.talk_seconds == 0
    presence = db.session.get(AgentPresence, a1.id)
    assert presence.state == "not_ready" and presence.state_label == "示忙（话机未注册）"
    second = peers.call("uac_queue.xml", caller="13800000006")
    assert second.returncode == 0, second.stdout.decode() + peers.log("kamailio.log")[-3000:]
    calls = wait_until(lambda: len([c for c in _calls() if c.state == "ended"]) == 2 and _calls())
    assert calls[1].agent_id == a2.id and calls[1].talk_seconds > 1


@pytest.fixture
def recorded_peers(app, live_server, tmp_path, request):
    require_peers("rtpengine")
    running = Peers(tmp_path, live_server, app.config["CTI_TOKEN"], record=True)
    app.config["RECORDINGS_DIR"] = str(running.recordings)
    running.start_rtpengine()
    running.start_kamailio()
    yield running
    running.stop()
    running.tell(request)
    app.config["RECORDINGS_DIR"] = None


def test_every_call_is_recorded_by_call_id_and_a_team_lead_plays_it_audited(recorded_peers, staffed, client, auth):
    """rtpengine records the call; the record names the file; a team lead plays it as WAV (the agent's
    phone sent a 440 Hz tone, so the track is not silence) and the play is in the audit trail."""
    import audioop
    import io
    import wave

    from app.models import AuditEntry

    a1 = staffed[0]
    recorded_peers.start_agent_phone(a1.username)
    recorded_peers.wait_registered([a1.username])
    _ready(a1)
    result = recorded_peers.call("uac_queue.xml", caller="13800000005", hold_ms=2500)
    assert result.returncode == 0, result.stdout.decode() + recorded_peers.log("kamailio.log")[-3000:]
    [call] = wait_until(lambda: [c for c in _calls() if c.recording])
    assert call.recording.startswith("pcaps/") and call.call_id.split("@")[0] in call.recording
    factories.user("lead1", ["team_lead"])
    auth.login("lead1")
    response = client.get(f"/calls/contacts/{call.id}/recording.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(response.data)) as track:
        frames = track.readframes(track.getnframes())
        assert track.getframerate() == 8000 and track.getnframes() > 8000  # more than a second of audio
    assert audioop.rms(frames, 2) > 500
    [play] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "recording.play")).all()
    assert play.username == "lead1" and f'"contact_id": {call.id}' in play.data_json
    auth.logout()
    auth.login("agent2")
    assert client.get(f"/calls/contacts/{call.id}/recording.wav").status_code == 403


@pytest.fixture
def voice_menu(app, peers, staffed):
    """The voice menu (2 → 待遇报销) answered by the media component, registered as `ivr`."""
    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "benefit"))
    root = IvrNode(kind="menu", label="主菜单", prompt="您好，欢迎致电医保服务热线。待遇报销请按2。")
    db.session.add(root)
    db.session.flush()
    # The transfer announcement is a recording (a second of noise, new every run, so it is fetched anew).
    recording = bytes(128 + (b % 32) - 16 for b in os.urandom(8000))
    db.session.add(IvrNode(parent_id=root.id, digit="2", kind="queue", label="待遇报销", queue_id=queue.id,
                           prompt="正在为您转接待遇报销坐席。", audio=recording, audio_name="转接.wav", audio_seconds=1.0,
                           audio_hash=hashlib.sha256(recording).hexdigest()[:16]))
    db.session.commit()
    app.config["IVR_EXTENSION"] = "ivr"
    peers.start_media("ivr")
    app.config["MEDIA_CONTROL_URL"] = peers.media_control_url
    yield
    app.config["IVR_EXTENSION"] = app.config["MEDIA_CONTROL_URL"] = None


def test_the_caller_keys_the_menu_talks_to_an_agent_and_the_survey_key_reaches_the_ticket(
        peers, staffed, voice_menu, client, auth):
    """sipp presses 2 (its recorded RFC 2833 key) in the menu the media component plays; the ACD
    rings the longest-idle agent on the component's second leg; the agent records the request on
    the spot and hangs up; the caller, still on the line, presses 1 (非常满意); the ticket is
    archived with that rating."""
    import audioop
    import wave

    from app.models import Ticket
    from tests.loop import record_call_on_the_spot

    a1 = staffed[0]
    peers.start_agent_phone(a1.username)
    peers.wait_registered([a1.username])
    _ready(a1)
    caller = peers.call("uac_ivr_survey.xml", caller="13800000006", hold_ms=9000, timeout=45, background=True,
                        echo=True)
    logs = lambda: peers.log("sipp-13800000006.log") + peers.log("media.log")[-4000:] + peers.log("kamailio.log")[-4000:]  # noqa: E731
    try:
        [call] = wait_until(lambda: [c for c in _calls() if c.state == "talking"], timeout=20)
    except AssertionError:
        raise AssertionError(logs()) from None
    assert (call.ivr_path, call.queue.code, call.agent_id) == ("2", "benefit", a1.id)
    assert call.leg_call_id and call.leg_call_id != call.call_id
    entry = db.session.scalar(select(IvrNode).where(IvrNode.digit == "2"))
    reference = f"/cti/ivr/audio/{entry.id}?v={entry.audio_hash}"  # the component fetched the recording to play it
    fetched = PROMPT_CACHE / f"rec-{hashlib.sha256(reference.encode()).hexdigest()[:32]}.pcm"
    assert fetched.read_bytes() == entry.audio
    auth.login(a1.username)
    record_call_on_the_spot(client, call.id, "13800000006", "住院报销材料", "问住院报销需要哪些材料。",
                            "需出院小结、费用清单和发票。")
    time.sleep(1.5)  # talking: the agent's 440 Hz tone goes to the caller, whose phone echoes it back
    peers.hang_up_phone(a1.username)
    assert caller.wait(45) == 0, logs()
    [call] = wait_until(lambda: [c for c in _calls() if c.survey_score])
    assert call.survey_score == 1 and call.talk_seconds > 0 and not call.abandoned
    ticket = db.session.get(Ticket, call.ticket_id)
    assert (ticket.status, ticket.satisfaction) == ("archived", "very_satisfied")
    assert agent_state(a1) == "after_call_work"
    # The media component carried the audio both ways: the agent heard their own tone come back.
    [dump] = (peers.folder / f"phone-{a1.username}").glob("*-dec.wav")  # sndfile: the decoded audio it heard
    with wave.open(str(dump)) as heard:
        assert audioop.rms(heard.readframes(heard.getnframes()), heard.getsampwidth()) > 300


def test_a_caller_who_leaves_while_waiting_after_the_menu_is_abandoned_and_the_waiting_leg_cancelled(
        peers, staffed, voice_menu):
    """Nobody is ready: Kamailio holds the media component's leg (182); the caller gives up and
    hangs up; the component cancels its leg, and the call is abandoned with its wait."""
    caller = peers.call("uac_ivr_gives_up.xml", caller="13800000007", hold_ms=5000, timeout=30)
    assert caller.returncode == 0, caller.stdout.decode() + peers.log("media.log")[-3000:]
    [call] = wait_until(lambda: [c for c in _calls() if c.state == "ended"])
    assert call.ivr_path == "2" and call.abandoned and call.wait_seconds > 1.0 and call.leg_call_id
    wait_until(lambda: f"waiting call {call.leg_call_id} cancelled" in peers.log("kamailio.log"))


def test_the_agent_consults_a_colleague_brings_them_in_and_transfers_the_caller_to_them(
        peers, staffed, voice_menu, client, auth):
    """咨询 → 三方 → 转接 from the agent bar: the media component holds the caller, rings agent2's
    phone, mixes all three, then hands the caller to agent2 and lets agent1 go to after-call work.
    agent2 hangs up; the caller rates the call. Every command is in the audit trail."""
    import audioop
    import wave

    from app.models import AuditEntry
    from tests.conftest import csrf_token

    a1, a2 = staffed[0], staffed[1]
    for user in (a1, a2):
        peers.start_agent_phone(user.username)
    peers.wait_registered([a1.username, a2.username])
    _ready(a1)
    caller = peers.call("uac_ivr_survey.xml", caller="13800000008", hold_ms=16000, timeout=50, background=True,
                        echo=True)
    logs = lambda: peers.log("sipp-13800000008.log") + peers.log("media.log")[-4000:]  # noqa: E731
    try:
        [call] = wait_until(lambda: [c for c in _calls() if c.state == "talking"], timeout=20)
    except AssertionError:
        raise AssertionError(logs()) from None
    auth.login(a1.username)
    page = client.get("/").get_data(as_text=True)
    assert 'value="consult"' in page and f'value="{a2.username}"' in page  # the bar offers the colleagues
    token = csrf_token(client, "/")

    def press(action: str, **form) -> None:
        response = client.post(f"/calls/contacts/{call.id}/talk", data={"csrf_token": token, "action": action, **form},
                               headers={"Accept": "application/json"})
        assert response.status_code == 200, (response.get_json(), logs())

    press("consult", target=a2.username)
    wait_until(lambda: "Call established" in peers.log(f"phone-{a2.username}.log"))
    press("conference")
    time.sleep(1.0)
    press("transfer")
    wait_until(lambda: _calls()[0].agent_id == a2.id)
    assert agent_state(a1) == "after_call_work" and agent_state(a2) == "talking"
    time.sleep(1.0)
    peers.hang_up_phone(a2.username)
    assert caller.wait(50) == 0, logs()
    [call] = wait_until(lambda: [c for c in _calls() if c.survey_score])
    assert (call.agent_id, call.state, call.survey_score) == (a2.id, "ended", 1)
    assert agent_state(a2) == "after_call_work"
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("call.%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["call.consult", "call.conference", "call.transfer"]
    # agent2 heard the call: agent1's tone in the three-way call and its own tone echoed by the caller.
    [dump] = (peers.folder / f"phone-{a2.username}").glob("*-dec.wav")
    with wave.open(str(dump)) as heard:
        assert audioop.rms(heard.readframes(heard.getnframes()), heard.getsampwidth()) > 300
