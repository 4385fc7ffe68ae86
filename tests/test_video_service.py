"""视频服务 at the edge: a video request opens a conversation in the video queue (the English one
for the English page) with the citizen's answer to recording, once per request id; signals are
relayed only between the citizen and the agent who holds the session, and malformed ones are
refused with a clear message; the citizen's answer counts as the agent's first response."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import CallQueue, Contact, UserSkill
from telephony_adapter import agents
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n"}


def _desk():
    video = factories.skill("video", "视频")
    english = factories.skill("en", "英语")
    db.session.add_all([CallQueue(code="video", name="视频客服", skill_id=video.id, min_level=1),
                        CallQueue(code="video_en", name="English video", skill_id=english.id, min_level=1)])
    li, wang = factories.user("li", ["agent"]), factories.user("wang", ["agent"])
    db.session.add_all([UserSkill(user_id=li.id, skill_id=video.id, level=3),
                        UserSkill(user_id=wang.id, skill_id=english.id, level=3)])
    db.session.commit()
    for agent in (li, wang):
        agents.set_state(agent.id, "ready", clock.now())
    return li, wang


def _token(client, path: str = "/video/") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _post(client, path: str, token: str, body):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token})


def _listen(channel: str):
    from app.redis_client import get_redis

    listener = get_redis().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    listener.get_message(timeout=1)
    return listener


def _heard(listener) -> list[dict]:
    found = [json.loads(m["data"]) for m in iter(lambda: listener.get_message(timeout=1), None)]
    listener.close()
    return found


def test_a_video_request_reaches_the_video_agent_with_the_answer_to_recording_once(client):
    li, _wang = _desk()
    token = _token(client)
    assert _post(client, "/video/start", token, {"consent": "yes", "id": "v1"}).status_code == 400
    assert db.session.scalar(select(func.count(Contact.id))) == 0
    for _ in range(2):  # a retried request is the same request
        answer = _post(client, "/video/start", token, {"consent": False, "id": "v1"})
        assert answer.status_code == 200
    [session] = db.session.scalars(select(Contact)).all()
    assert (session.channel, session.queue.code, session.agent_id, session.recording_consent) == (
        "video", "video", li.id, False)


def test_the_english_video_page_goes_to_the_english_speaker(client):
    _li, wang = _desk()
    client.get("/video/", query_string={"lang": "en"})
    answer = _post(client, "/video/start", _token(client), {"consent": True, "id": "v1"})
    assert answer.status_code == 200
    session = db.session.scalar(select(Contact))
    assert (session.queue.code, session.agent_id, session.language) == ("video_en", wang.id, "en")
    # a malformed signal is refused in the page's language
    refused = _post(client, "/video/signal", _token(client), {"description": {"type": "bogus", "sdp": "x"}})
    assert refused.status_code == 422 and refused.get_json()["error"] == "The video signal is malformed"


def test_signals_go_only_between_the_citizen_and_the_agent_who_holds_the_session(client, auth):
    li, wang = _desk()
    citizen_token = _token(client)
    _post(client, "/video/start", citizen_token, {"consent": True, "id": "v1"})
    session = db.session.scalar(select(Contact))
    party = session.party
    # 王强 does not hold the session: not his to call
    auth.login("wang")
    page_token = csrf_token(client, "/chats/")
    refused = _post(client, f"/chats/{session.id}/video/signal", page_token, {"description": OFFER})
    assert refused.status_code in (403, 404)
    auth.logout()
    auth.login("li")
    page_token = csrf_token(client, "/chats/")
    bad = _post(client, f"/chats/{session.id}/video/signal", page_token, {"description": {"type": "offer"}})
    assert bad.status_code == 422 and bad.get_json()["error"] == "视频信令格式不正确"
    to_citizen = _listen(f"hotline:visitor:video:{party}")
    assert _post(client, f"/chats/{session.id}/video/signal", page_token, {"description": OFFER}).status_code == 200
    assert [m["description"] for m in _heard(to_citizen) if m["kind"] == "signal"] == [OFFER]
    auth.logout()
    # the citizen's answer reaches 李娜 only, and answers the session (her first response)
    from telephony_adapter import push

    to_li, to_wang = _listen(push.channel(li.id)), _listen(push.channel(wang.id))
    with client.session_transaction() as stored:
        stored["video_party"] = party
    assert _post(client, "/video/signal", _token(client), {"description": ANSWER}).status_code == 200
    assert [m["description"] for m in _heard(to_li) if m["kind"] == "video"] == [ANSWER]
    assert [m for m in _heard(to_wang) if m["kind"] == "video"] == []
    db.session.expire_all()
    assert db.session.get(Contact, session.id).answered_at is not None


def test_a_recording_is_kept_only_with_consent_and_every_viewing_is_audited(client, auth):
    import io

    from app.models import AuditEntry

    li, _wang = _desk()
    factories.user("qa1", ["qa"])
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 2048
    sessions = {}
    for consent in (False, True):
        client.get("/video/")
        with client.session_transaction() as stored:
            stored.pop("video_party", None)  # another citizen
        _post(client, "/video/start", _token(client), {"consent": consent, "id": f"v{consent}"})
        sessions[consent] = db.session.scalar(select(Contact).where(Contact.recording_consent.is_(consent)))
    auth.login("li")
    token = csrf_token(client, "/chats/")

    def upload(contact, data):
        return client.post(f"/chats/{contact.id}/video/recording", headers={"X-CSRFToken": token},
                           data={"recording": (io.BytesIO(data), "session.webm")}, content_type="multipart/form-data")

    refused = upload(sessions[False], webm)
    assert refused.status_code == 409 and "未同意录音录像" in refused.get_json()["error"]
    assert upload(sessions[True], b"not a video").status_code == 422
    assert upload(sessions[True], webm).status_code == 200
    db.session.expire_all()
    assert sessions[False].recording is None and sessions[True].recording.startswith("video/")
    auth.logout()
    auth.login("qa1")  # QA may view recordings (calls.listen); the look is audited
    shown = client.get(f"/chats/records/{sessions[True].id}/recording.webm")
    assert shown.status_code == 200 and shown.data == webm and shown.mimetype == "video/webm"
    record = client.get(f"/chats/records/{sessions[True].id}").get_data(as_text=True)
    assert f"/chats/records/{sessions[True].id}/recording.webm" in record
    assert client.get(f"/chats/records/{sessions[False].id}/recording.webm").status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
        ("video.recorded", "recording.play")))).all()
    assert actions == ["video.recorded", "recording.play"]
