"""实时监控: a morning on the hotline, driven by real CTI events, as the team lead's wallboard shows
it — every agent's state, the queues, today's figures against their thresholds — and the lead's
actions on it (force 示忙 / 签出, move an agent between queues, pull everyone back in a surge,
broadcast), each audited and told to the agent's own screen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, AuditEntry, CallQueue, Contact, Ticket, UserSkill
from telephony_adapter import agents
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
TOKEN = {"Authorization": "Bearer test-cti-token"}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(client, kind: str, call_id: str, seconds: float, **data):
    body = {"source": "kamailio", "event_id": f"{call_id}-{kind}-{seconds}", "kind": kind, "call_id": call_id,
            "at": at(seconds).isoformat(), "data": data}
    response = client.post("/cti/events", json=body, headers=TOKEN)
    assert response.status_code == 200, response.get_json()


def set_state(user, state: str, seconds: float, reason: str | None = None) -> None:
    with clock.frozen_at(at(seconds)):
        agents.set_state(user.id, state, clock.now(), reason)


@pytest.fixture
def floor(app):
    """The 待遇报销 queue; 李 and 王 serve it, 赵 serves 参保登记; 孙 leads the team."""
    benefits = factories.skill("benefits", "待遇报销")
    enrol = factories.skill("enrol", "参保登记")
    db.session.add_all([CallQueue(code="benefits", name="待遇报销", skill_id=benefits.id, min_level=2, ivr_digit="2"),
                        CallQueue(code="enrol", name="参保登记", skill_id=enrol.id, min_level=1, ivr_digit="1")])
    people = {name: factories.user(name, ["agent"], display_name=label)
              for name, label in (("li", "李娜"), ("wang", "王强"), ("zhao", "赵敏"))}
    db.session.add_all([UserSkill(user_id=people["li"].id, skill_id=benefits.id, level=3),
                        UserSkill(user_id=people["wang"].id, skill_id=benefits.id, level=2),
                        UserSkill(user_id=people["zhao"].id, skill_id=enrol.id, level=4)])
    db.session.commit()
    people["lead"] = factories.user("sun", ["team_lead"], display_name="孙班长")
    return people


def morning(client, floor) -> None:
    """Four calls and a fifth waiting, as the switch reports them."""
    li, wang = floor["li"], floor["wang"]
    set_state(wang, "ready", -200)
    set_state(li, "ready", -100)
    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "queued", "c1", 1, queue="benefits")  # to 王 (idle longest)
    event(client, "answered", "c1", 3)  # 2 s: within the service level
    event(client, "incoming", "c2", 10, caller="13800000002")
    event(client, "queued", "c2", 11, queue="benefits")  # to 李
    event(client, "answered", "c2", 40)  # 29 s: outside it
    event(client, "incoming", "c3", 50, caller="13800000003")
    event(client, "queued", "c3", 51, queue="benefits")  # nobody free
    event(client, "hangup", "c3", 80, cause="caller_cancel")  # 放弃
    event(client, "hangup", "c1", 63)
    event(client, "hangup", "c2", 100)
    event(client, "survey_result", "c1", 70, score=1)
    event(client, "survey_result", "c2", 105, score=3)
    assert agents.expire_after_call_work(at(95)) == 1  # 王's 30 s of 整理
    assert agents.expire_after_call_work(at(135)) == 1  # 李's
    set_state(li, "not_ready", 141, "break")
    event(client, "incoming", "c4", 150, caller="13900000004")
    event(client, "queued", "c4", 151, queue="benefits")  # to 王: ringing
    event(client, "incoming", "c5", 152, caller="13900000005")
    event(client, "queued", "c5", 152, queue="benefits")  # waits


def board(client) -> dict:
    with clock.frozen_at(at(160)):
        response = client.get("/monitor/board.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_board_shows_each_agent_the_queues_and_todays_figures(client, auth, floor):
    morning(client, floor)
    tickets = [factories.ticket_started(floor["li"]) for _ in range(2)]
    db.session.get(Ticket, tickets[0]).handle_due_at = at(8 * 3600)  # 17:00 today
    db.session.get(Ticket, tickets[1]).sla_state = "overdue"
    db.session.commit()
    auth.login("sun")
    assert "实时监控" in client.get("/monitor/").get_data(as_text=True)
    snap = board(client)
    by_name = {a["name"]: a for a in snap["agents"]}
    assert by_name["王强"]["state"] == "reserved" and by_name["王强"]["contact"] == "待遇报销 · 139****0004"
    assert (by_name["李娜"]["state"], by_name["李娜"]["reason"]) == ("not_ready", "break")
    assert by_name["李娜"]["since"] == at(141).isoformat()
    assert by_name["赵敏"]["state"] == "logged_out" and by_name["赵敏"]["queues"] == ["enrol"]
    assert by_name["孙班长"]["state"] == "logged_out"  # team leads serve too
    [benefits] = [q for q in snap["queues"] if q["code"] == "benefits"]
    assert (benefits["waiting"], benefits["longest_wait"], benefits["ready"]) == (1, 8, 0)
    today = snap["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (5, 2, 1)
    assert today["answer_rate"] == pytest.approx(2 / 3) and today["service_level"] == pytest.approx(1 / 3)
    assert today["handle_seconds"] == 90 and today["acw_seconds"] == 30  # 60 s talk + 30 s wrap-up each
    assert today["satisfaction"] == 0.5 and today["rated"] == 2
    assert (today["tickets_due_today"], today["tickets_overdue"]) == (1, 1)
    levels = today["levels"]
    assert (levels["answer_rate"], levels["service_level"], levels["acw_seconds"], levels["satisfaction"]) == \
        ("red", "red", "red", "red")
    assert snap["surge"]["active"] is False


def test_every_committed_state_change_is_pushed_to_the_boards_with_the_state_and_nothing_for_a_rollback(app, floor):
    from app.redis_client import get_redis
    from telephony_adapter import board, presence

    listener = get_redis().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(board.CHANNEL)
    listener.get_message(timeout=1)
    li = floor["li"]
    set_state(li, "ready", 0)
    pushed = json.loads(listener.get_message(timeout=2)["data"])
    assert (pushed["kind"], pushed["user_id"], pushed["state"], pushed["since"]) == ("agent", li.id, "ready",
                                                                                     at(0).isoformat())
    row = presence.presence(li.id, lock=True)
    presence.move(row, "not_ready", at(5), reason="meal")
    db.session.flush()
    db.session.rollback()  # never committed: no board hears of it
    assert listener.get_message(timeout=0.5) is None
    listener.close()


def test_the_lead_forces_an_agent_to_not_ready_and_out_but_never_off_a_call(client, auth, floor):
    from app.redis_client import get_redis
    from telephony_adapter import push

    li = floor["li"]
    set_state(li, "ready", 0)
    listener = get_redis().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(push.channel(li.id))
    listener.get_message(timeout=1)
    auth.login("sun")
    token = csrf_token(client, "/monitor/")
    answer = client.post(f"/monitor/agents/{li.id}/state", data={"csrf_token": token, "state": "not_ready",
                                                                 "reason": "meeting"})
    assert answer.status_code == 200
    db.session.expire_all()
    assert (db.session.get(AgentPresence, li.id).state, db.session.get(AgentPresence, li.id).reason) == \
        ("not_ready", "meeting")
    told = json.loads(listener.get_message(timeout=2)["data"])
    assert told["kind"] == "presence" and told["notice"] == "班长 孙班长 已将您的状态设为示忙（会议）"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "monitor.force_state"))
    assert entry.username == "sun" and entry.role == "team_lead" and entry.summary == "将 李娜 由示闲强制示忙（会议）"
    no_reason = client.post(f"/monitor/agents/{li.id}/state", data={"csrf_token": token, "state": "not_ready"})
    assert no_reason.status_code == 422 and no_reason.get_json()["error"] == "强制示忙须选择原因"
    # on a call: refused, nothing changes
    set_state(li, "ready", 10)
    event(client, "incoming", "c9", 11, caller="13800000009")
    event(client, "queued", "c9", 12, queue="benefits")
    event(client, "answered", "c9", 14)
    refused = client.post(f"/monitor/agents/{li.id}/state", data={"csrf_token": token, "state": "logged_out"})
    assert refused.status_code == 422 and "正在通话" in refused.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(AgentPresence, li.id).state == "talking"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "monitor.force_state")
                             .order_by(AuditEntry.seq.desc())).summary == "将 李娜 由示闲强制示忙（会议）"
    event(client, "hangup", "c9", 40)
    assert client.post(f"/monitor/agents/{li.id}/state", data={"csrf_token": token, "state": "logged_out"}
                       ).status_code == 200  # from 整理 straight out
    db.session.expire_all()
    assert db.session.get(AgentPresence, li.id).state == "logged_out"
    listener.close()


def test_the_lead_moves_an_agent_between_queues(client, auth, floor):
    zhao = floor["zhao"]
    from app.models import Skill

    benefits = db.session.scalar(select(Skill).where(Skill.code == "benefits"))
    auth.login("sun")
    token = csrf_token(client, "/monitor/")
    answer = client.post(f"/monitor/agents/{zhao.id}/queues", data={"csrf_token": token, "skill": [str(benefits.id)]})
    assert answer.status_code == 200 and answer.get_json()["queues"] == ["benefits"]
    db.session.expire_all()
    held = {s.skill.code: s.level for s in db.session.scalars(select(UserSkill).where(UserSkill.user_id == zhao.id))}
    assert held == {"benefits": 3}  # off 参保登记, on 待遇报销 at a level the queue accepts
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "monitor.queues_set"))
    assert entry.summary == "调整 赵敏 的服务技能：参保登记 → 待遇报销"
    # the ACD now offers 待遇报销 calls to 赵
    set_state(floor["zhao"], "ready", 0)
    event(client, "incoming", "c1", 1, caller="13800000001")
    event(client, "queued", "c1", 2, queue="benefits")
    db.session.expire_all()
    assert db.session.scalar(select(Contact.agent_id).where(Contact.call_id == "c1")) == zhao.id
    assert client.post(f"/monitor/agents/{zhao.id}/queues", data={"csrf_token": token, "skill": ["999"]}
                       ).get_json()["error"] == "所选技能不对应任何启用的队列"


def test_in_a_surge_the_lead_pulls_everyone_back_and_broadcasts_to_every_screen(app, client, auth, floor):
    from app.redis_client import get_redis
    from telephony_adapter import push

    app.config.update(SURGE_WAITING=2)
    li, wang, zhao = floor["li"], floor["wang"], floor["zhao"]
    set_state(li, "not_ready", 0, "break")
    set_state(wang, "not_ready", 0, "meal")
    set_state(zhao, "ready", 0)
    event(client, "incoming", "c1", 10, caller="13800000001")
    event(client, "queued", "c1", 11, queue="benefits")
    event(client, "incoming", "c2", 12, caller="13800000002")
    event(client, "queued", "c2", 13, queue="benefits")
    auth.login("sun")
    snap = board(client)
    assert snap["surge"]["active"] and snap["surge"]["waiting"] == 2
    listener = get_redis().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(push.channel(zhao.id))
    listener.get_message(timeout=1)
    token = csrf_token(client, "/monitor/")
    with clock.frozen_at(at(20)):
        pulled = client.post("/monitor/pull", data={"csrf_token": token}).get_json()
    assert sorted(pulled["agents"]) == ["李娜", "王强"]
    db.session.expire_all()
    # each took a waiting call at once
    assert {db.session.get(AgentPresence, u.id).state for u in (li, wang)} == {"reserved"}
    assert db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "monitor.pull_agents")) == \
        "突发事件：2 位示忙坐席转为示闲"
    with clock.frozen_at(at(25)):
        sent = client.post("/monitor/broadcast", data={"csrf_token": token, "text": "来电激增，请暂停小休"}).get_json()
    assert sent["message"] == "广播已发送给 3 位在线坐席"
    told = json.loads(listener.get_message(timeout=2)["data"])
    assert (told["kind"], told["text"], told["author"]) == ("broadcast", "来电激增，请暂停小休", "孙班长")
    assert client.post("/monitor/broadcast", data={"csrf_token": token, "text": " "}).status_code == 422
    listener.close()
    # an agent opening a page while it is fresh sees it on the bar
    auth.logout()
    auth.login("zhao")
    with clock.frozen_at(at(60)):
        assert shown_broadcast(client.get("/inbox/").get_data(as_text=True))["text"] == "来电激增，请暂停小休"
    with clock.frozen_at(at(60 + 31 * 60)):
        assert shown_broadcast(client.get("/inbox/").get_data(as_text=True)) is None  # 30 minutes on: old news


def shown_broadcast(page: str) -> dict | None:
    import html
    import re

    found = re.search(r'data-broadcast="([^"]*)"', page)
    return json.loads(html.unescape(found.group(1))) if found else None


def test_agents_cannot_open_the_board_or_act(client, auth, floor):
    auth.login("li")
    assert client.get("/monitor/").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/monitor/pull", data={"csrf_token": token}).status_code == 403


def test_an_agent_working_from_outside_the_office_is_a_remote_seat_measured_like_everyone(app, client, auth):
    """场外坐席: 王强 signs in from home (the test client's 127.0.0.1 is outside the office's 10/8): the
    board marks him remote, the push says so at once, and his periods are logged as anyone's."""
    from app.models import AgentStateLog
    from app.monitor import services

    factories.user("wang", ["agent"], display_name="王强")
    app.config["OFFICE_NETWORKS"] = "10.0.0.0/8, 192.168.0.0/16"
    try:
        auth.login("wang")
        token = csrf_token(client, "/inbox/")
        from app.redis_client import get_redis
        from telephony_adapter import board

        listener = get_redis().pubsub(ignore_subscribe_messages=True)
        listener.subscribe(board.CHANNEL)
        listener.get_message(timeout=1)
        answer = client.post("/calls/presence", data={"csrf_token": token, "state": "ready"},
                             headers={"Accept": "application/json"})
        assert answer.status_code == 200
        [mine] = [a for a in services.agents() if a["name"] == "王强"]
        assert mine["remote"] is True and mine["state"] == "ready"
        pushed = [json.loads(m["data"]) for m in iter(lambda: listener.get_message(timeout=1), None)]
        listener.close()
        assert any(p.get("remote") is True and p.get("state") == "ready" for p in pushed), pushed
        row = db.session.scalar(select(AgentPresence).where(AgentPresence.user_id == mine["user_id"]))
        assert row.address == "127.0.0.1"
        assert db.session.scalar(select(AgentStateLog.state).where(AgentStateLog.user_id == row.user_id)) == "ready"
        # back in the office (the office's networks now include the address): no longer marked
        app.config["OFFICE_NETWORKS"] = "127.0.0.0/8"
        client.post("/calls/presence", data={"csrf_token": token, "state": "not_ready", "reason": "meal"},
                    headers={"Accept": "application/json"})
        db.session.expire_all()
        assert db.session.get(AgentPresence, row.user_id).remote is False
    finally:
        app.config["OFFICE_NETWORKS"] = ""  # the app is shared by the whole session


def test_a_wrong_office_network_is_refused_when_the_platform_starts():
    from app import create_app
    from config import config_from_env

    with pytest.raises(ValueError, match="not-a-network"):
        create_app(type("Wrong", (config_from_env(),), {"OFFICE_NETWORKS": "10.0.0.0/8,not-a-network"}))
