"""Calls through the CTI event API: the ACD's choices, agent states and the call records they leave."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AgentPresence, AgentStateLog, CallQueue, Contact, ContactEvent, UserSkill
from telephony_adapter import agents, presence
from tests import factories
from tests.concurrency import in_threads
from workflows import clock

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Lanzhou
TOKEN = {"Authorization": "Bearer test-cti-token"}
_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(client, kind: str, call_id: str, seconds: float, event_id: str | None = None, **data):
    body = {"source": "kamailio", "event_id": event_id or f"e{next(_ids)}", "kind": kind, "call_id": call_id,
            "at": at(seconds).isoformat(), "data": data}
    response = client.post("/cti/events", json=body, headers=TOKEN)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def contact(call_id: str) -> Contact:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.call_id == call_id))


def state_of(user) -> str:
    db.session.expire_all()
    return db.session.get(AgentPresence, user.id).state


@pytest.fixture
def centre(app):
    """Two skills, a 待遇报销 queue (overflow to 综合 after 60 s) and three agents."""
    benefits = factories.skill("benefits", "待遇报销")
    general = factories.skill("general", "综合咨询")
    queue = CallQueue(code="benefits", name="待遇报销", skill_id=benefits.id, min_level=2, overflow_skill_id=general.id,
                      overflow_after_seconds=60, max_wait_seconds=180, ivr_digit="2")
    db.session.add(queue)
    people = {name: factories.user(name, ["agent"]) for name in ("li", "wang", "zhao")}
    db.session.add_all([UserSkill(user_id=people["li"].id, skill_id=benefits.id, level=3),
                        UserSkill(user_id=people["wang"].id, skill_id=benefits.id, level=2),
                        UserSkill(user_id=people["zhao"].id, skill_id=general.id, level=4)])
    db.session.commit()
    return people


def answered_call(client, auth, agent, caller: str = "13800000001") -> Contact:
    """The agent is ready, a caller is queued to them and they answer; the agent is signed in."""
    ready(agent, -10)
    event(client, "incoming", "c1", 0, caller=caller)
    event(client, "queued", "c1", 1, queue="benefits")
    event(client, "answered", "c1", 3)
    auth.login(agent.username)
    return contact("c1")


def ready(user, seconds: float) -> agents.StateChange:
    with clock.frozen_at(at(seconds)):
        return agents.set_state(user.id, "ready", clock.now())


def test_the_longest_idle_agent_with_the_skill_gets_the_call_and_the_record_keeps_every_time(client, centre):
    """王 has waited longest among those who know 待遇报销; 赵 (other skill) is never offered it. The
    call's record ends with the queue wait, ring, talk and hold times the events imply."""
    li, wang, zhao = centre["li"], centre["wang"], centre["zhao"]
    ready(zhao, -300)
    ready(wang, -200)
    ready(li, -100)
    event(client, "incoming", "c1", 0, caller="13800000001", dialled="12393")
    event(client, "ivr", "c1", 5, digit="2")
    answer = event(client, "queued", "c1", 8)
    assert answer["offered_to"] == wang.id and state_of(wang) == "reserved" and state_of(zhao) == "ready"
    event(client, "answered", "c1", 12)
    event(client, "held", "c1", 40)
    event(client, "resumed", "c1", 55)
    event(client, "hangup", "c1", 100, cause="caller_bye")
    record = contact("c1")
    assert (record.state, record.agent_id, record.ivr_path, record.abandoned) == ("ended", wang.id, "2", False)
    assert (record.wait_seconds, record.ring_seconds, record.hold_seconds, record.talk_seconds) == (0, 4, 15, 73)
    assert state_of(wang) == "after_call_work"


def test_an_agent_in_after_call_work_is_skipped_and_returns_to_ready_when_it_runs_out(client, centre, app):
    li, wang = centre["li"], centre["wang"]
    ready(wang, -200)
    ready(li, -100)
    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "queued", "c1", 1, queue="benefits")
    event(client, "answered", "c1", 3)
    event(client, "hangup", "c1", 33)  # 王 is in after-call work until 33 + 30 s
    event(client, "incoming", "c2", 40, caller="13800000002")
    assert event(client, "queued", "c2", 41, queue="benefits")["offered_to"] == li.id
    assert agents.expire_after_call_work(at(62)) == 0  # not yet
    assert agents.expire_after_call_work(at(70)) == 1
    db.session.expire_all()
    row = db.session.get(AgentPresence, wang.id)
    assert row.state == "ready" and row.idle_since == at(63)  # when it ran out, not when the job looked
    assert contact("c1").acw_seconds == app.config["ACW_SECONDS"]


def test_with_nobody_ready_the_call_waits_and_goes_to_the_first_agent_who_becomes_ready(client, centre):
    """Two calls wait; the repeat caller (called 2 h ago) is served first although they queued later."""
    li = centre["li"]
    event(client, "incoming", "old", -7200, caller="13900000009")
    event(client, "hangup", "old", -7100)
    event(client, "incoming", "c1", 0, caller="13800000001")
    assert event(client, "queued", "c1", 1, queue="benefits")["offered_to"] is None
    event(client, "incoming", "c2", 5, caller="13900000009")
    event(client, "queued", "c2", 6, queue="benefits")
    assert contact("c2").repeat_caller and contact("c1").state == "queued"
    change = ready(li, 20)
    assert change.offered.call_id == "c2" and state_of(li) == "reserved"
    assert contact("c2").wait_seconds == 14 and contact("c1").state == "queued"


def test_a_caller_who_hangs_up_while_waiting_is_an_abandoned_call_with_their_wait(client, centre):
    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "queued", "c1", 10, queue="benefits")
    event(client, "hangup", "c1", 47, cause="caller_cancel")
    record = contact("c1")
    assert record.abandoned and record.wait_seconds == 37 and record.agent_id is None and record.state == "ended"


def test_after_the_overflow_wait_an_agent_with_the_wider_skill_takes_the_call(client, centre):
    zhao = centre["zhao"]
    event(client, "incoming", "c1", 0)
    event(client, "queued", "c1", 0, queue="benefits")
    assert ready(zhao, 30).offered is None  # 综合 may help only after 60 s
    with clock.frozen_at(at(31)):
        agents.set_state(zhao.id, "not_ready", clock.now(), "break")
    assert ready(zhao, 61).offered.call_id == "c1"


def test_a_repeated_event_changes_nothing_and_one_out_of_place_is_kept_as_ignored(client, centre):
    ready(centre["li"], -10)
    event(client, "incoming", "c1", 0, event_id="x1")
    again = event(client, "incoming", "c1", 0, event_id="x1")
    assert again["result"] == "duplicate"
    assert db.session.scalar(select(func.count(Contact.id))) == 1
    held = event(client, "held", "c1", 3)  # nobody is talking yet
    assert held["result"] == "ignored" and "不适用" in held["note"]
    assert db.session.scalar(select(ContactEvent.outcome).where(ContactEvent.kind == "held")) == "ignored"
    assert contact("c1").state == "ivr"


def test_bad_requests_are_refused_clearly_and_store_nothing(client, centre):
    body = {"event_id": "b1", "kind": "incoming", "call_id": "c1", "at": at(0).isoformat()}
    assert client.post("/cti/events", json=body).status_code == 401
    assert client.post("/cti/events", json=body, headers={"Authorization": "Bearer guess"}).status_code == 401
    wrong = client.post("/cti/events", json={**body, "kind": "teleport"}, headers=TOKEN)
    assert wrong.status_code == 400 and "未知的事件类型" in wrong.get_json()["error"]
    naive = client.post("/cti/events", json={**body, "at": "2026-12-07T09:00:00"}, headers=TOKEN)
    assert naive.status_code == 400 and "时区" in naive.get_json()["error"]
    garbage = client.post("/cti/events", data="{not json", headers={**TOKEN, "Content-Type": "application/json"})
    assert garbage.status_code == 400
    assert db.session.scalar(select(func.count(ContactEvent.id))) == 0


def test_every_state_an_agent_passes_through_is_a_logged_period(client, centre):
    """示闲 → 振铃 → 通话 → 整理 → 示忙（用餐）: each period starts where the previous one ended."""
    li = centre["li"]
    ready(li, 0)
    event(client, "incoming", "c1", 10)
    event(client, "queued", "c1", 10, queue="benefits")
    event(client, "answered", "c1", 14)
    event(client, "hangup", "c1", 74)
    with clock.frozen_at(at(90)):
        agents.set_state(li.id, "ready", clock.now())  # 整理完成 by key, before the 30 s ran out
        agents.set_state(li.id, "not_ready", clock.now(), "meal")
    periods = db.session.execute(select(AgentStateLog.state, AgentStateLog.reason, AgentStateLog.started_at,
                                        AgentStateLog.ended_at).where(AgentStateLog.user_id == li.id)
                                 .order_by(AgentStateLog.id)).all()
    assert periods == [("ready", None, at(0), at(10)), ("reserved", None, at(10), at(14)),
                       ("talking", None, at(14), at(74)), ("after_call_work", None, at(74), at(90)),
                       ("ready", None, at(90), at(90)), ("not_ready", "meal", at(90), None)]
    assert contact("c1").acw_seconds == 16


def test_an_agent_whose_first_two_requests_arrive_together_gets_one_presence_and_both_succeed(app):
    """A new agent's bar opens its event stream and sends 示闲 at the same instant: both find no
    presence row yet; one creates it, the other reads it — neither request fails."""
    agent = factories.user("newcomer", ["agent"])
    agent_id = agent.id
    db.session.remove()

    def first_look(i):
        row = presence.presence(agent_id, lock=True)
        state = row.state
        db.session.commit()
        return state

    results = in_threads(app, 4, first_look)
    assert results == ["logged_out"] * 4, results
    assert db.session.scalar(select(func.count()).select_from(AgentPresence)
                             .where(AgentPresence.user_id == agent_id)) == 1


def test_the_agent_bar_changes_state_and_refuses_not_ready_without_a_reason(client, auth, centre):
    auth.login("li")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "示闲 F8" in page and 'id="agent-bar"' in page
    from tests.conftest import csrf_token

    token = csrf_token(client, "/inbox/")
    answer = client.post("/calls/presence", data={"csrf_token": token, "state": "not_ready"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422 and "原因" in answer.get_json()["error"]
    answer = client.post("/calls/presence", data={"csrf_token": token, "state": "ready"},
                         headers={"Accept": "application/json"})
    assert answer.get_json()["state"] == "ready" and answer.get_json()["label"] == "示闲"
    assert state_of(centre["li"]) == "ready"


def test_team_leads_read_the_call_records_with_abandoned_calls_marked(client, auth, centre):
    factories.user("lead1", ["team_lead"])
    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "queued", "c1", 10, queue="benefits")
    event(client, "hangup", "c1", 47)
    auth.login("lead1")
    page = client.get("/calls/?filter=abandoned").get_data(as_text=True)
    assert "13800000001" in page and "放弃" in page and "待遇报销" in page


def test_the_screen_pop_shows_the_callers_people_masked_tickets_and_calls_and_logs_the_look(client, auth, centre):
    """王建国 calls again: the pop lists him (ID masked), his earlier ticket and call; the look at
    his data is logged with the call as its grounds."""
    from app.models import PersonAccess
    from tests.loop import COMPLAINT
    from tests.people_helpers import person
    from workflows import engine
    from workflows.audit_trail import Actor

    li = centre["li"]
    person(phones=["13800000001"])
    earlier = engine.start_ticket(COMPLAINT, Actor(li.id, "li", "agent"))
    event(client, "incoming", "old", -3600, caller="13800000001")
    event(client, "hangup", "old", -3590)
    ready(li, -10)
    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "ivr", "c1", 4, digit="2")
    event(client, "queued", "c1", 6)
    call = contact("c1")
    auth.login("li")
    page = client.get(f"/calls/contacts/{call.id}/pop").get_data(as_text=True)
    assert "王建国" in page and "6201" in page and "**********" in page
    assert earlier.number in page and "2（待遇报销）" in page and "重复来电" in page
    assert f"/tickets/new?phone=13800000001&amp;contact={call.id}" in page
    [look] = db.session.scalars(select(PersonAccess)).all()
    assert look.context == f"call:{call.id}" and look.user_id == li.id
    factories.user("other", ["agent"])
    auth.logout()
    auth.login("other")
    assert client.get(f"/calls/contacts/{call.id}/pop").status_code == 403  # not their call


def test_a_ticket_recorded_from_the_call_gets_the_callers_survey_as_its_satisfaction(client, auth, centre):
    """The agent records the request from the pop and answers it on the spot; after hang-up the
    caller presses 1 (非常满意) in the survey, and the ticket is archived with that rating."""
    from app.models import Ticket
    from tests.loop import record_call_on_the_spot

    li = centre["li"]
    call = answered_call(client, auth, li)
    record_call_on_the_spot(client, call.id, "13800000001", "门诊报销比例", "问门诊报销比例。",
                            "职工医保门诊报销比例为 70%。")
    ticket_id = contact("c1").ticket_id
    assert ticket_id is not None
    event(client, "hangup", "c1", 90)
    assert event(client, "survey_result", "c1", 100, score=1)["result"] == "applied"
    event(client, "survey_result", "c1", 101, score=1)  # the IVR sent it once more under a new id
    db.session.expire_all()
    from app.models import DeliveredMessage

    assert db.session.scalar(select(func.count(DeliveredMessage.id))) == 1  # the ticket heard it once
    ticket = db.session.get(Ticket, ticket_id)
    assert (ticket.status, ticket.satisfaction) == ("archived", "very_satisfied")
    assert contact("c1").survey_score == 1


def test_a_caller_tired_of_waiting_leaves_a_callback_request_that_becomes_a_pool_ticket(client, centre):
    """After three minutes in 待遇报销 the caller presses the key for 预约回拨: the call ends (not as
    abandoned), and a ticket with their number waits in the agents' pool, linked to the call."""
    from app.models import OpenTask, Ticket

    event(client, "incoming", "c1", 0, caller="13800000001")
    event(client, "queued", "c1", 5, queue="benefits")
    assert event(client, "callback_requested", "c1", 185)["result"] == "applied"
    record = contact("c1")
    assert (record.state, record.abandoned, record.hangup_cause, record.wait_seconds) == (
        "ended", False, "callback_requested", 180)
    ticket = db.session.get(Ticket, record.ticket_id)
    assert ticket.caller_phone == "13800000001" and ticket.subject == "预约回拨：待遇报销"
    [task] = db.session.scalars(select(OpenTask).where(OpenTask.ticket_id == ticket.id)).all()
    assert (task.task_name, task.role, task.assignee_id) == ("dispatch", "agent", None)  # in 待认领


def test_a_manager_sets_up_a_queue_and_a_clash_is_refused_by_name(client, auth, centre):
    factories.user("manager1", ["manager"])
    auth.login("manager1")
    from app.models import Skill
    from tests.conftest import csrf_token

    general = db.session.scalar(select(Skill).where(Skill.code == "general"))
    token = csrf_token(client, "/calls/queues/new")
    form = {"csrf_token": token, "code": "offsite", "name": "异地就医", "skill_id": general.id, "min_level": 2,
            "overflow_skill_id": 0, "overflow_after_seconds": 0, "max_wait_seconds": 120, "ivr_digit": "2",
            "active": "y"}
    clash = client.post("/calls/queues/new", data=form)
    assert clash.status_code == 422 and "按键 2 已分配给队列“待遇报销”" in clash.get_data(as_text=True)
    assert client.post("/calls/queues/new", data={**form, "ivr_digit": "3"}).status_code == 302
    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "offsite"))
    assert (queue.ivr_digit, queue.min_level, queue.max_wait_seconds, queue.overflow_skill_id) == ("3", 2, 120, None)
    page = client.get("/calls/queues").get_data(as_text=True)
    assert "异地就医" in page and "综合咨询" in page


def test_a_follow_up_call_is_linked_to_the_callers_open_ticket_and_the_link_is_in_its_trail(client, auth, centre):
    """The caller rings again about a complaint still with the department: the agent links the call
    to that ticket from the pop; the ticket's audit chain records it and stays intact."""
    from app.models import AuditEntry
    from tests.conftest import csrf_token
    from tests.loop import COMPLAINT
    from workflows import engine
    from workflows.audit_trail import Actor, verify

    li = centre["li"]
    open_ticket = engine.start_ticket(COMPLAINT, Actor(li.id, "li", "agent"))
    call = answered_call(client, auth, li)
    assert "来电信息" in client.get("/inbox/").get_data(as_text=True)  # the bar reopens the pop during the call
    pop = client.get(f"/calls/contacts/{call.id}/pop").get_data(as_text=True)
    assert "关联此来电" in pop
    token = csrf_token(client, "/inbox/")
    response = client.post(f"/calls/contacts/{call.id}/link", data={"csrf_token": token, "ticket_id": open_ticket.id})
    assert response.status_code == 302 and f"/tickets/{open_ticket.id}" in response.headers["Location"]
    assert contact("c1").ticket_id == open_ticket.id
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call.link")).all()
    assert entry.ticket_id == open_ticket.id and entry.username == "li" and verify().ok
    again = client.post(f"/calls/contacts/{call.id}/link", data={"csrf_token": token, "ticket_id": open_ticket.id})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.action == "call.link")) == 1
    page = client.get(f"/tickets/{open_ticket.id}").get_data(as_text=True)
    assert "关联来电" in page and "13800000001" in page


@pytest.fixture
def menu(centre):
    """欢迎 → 2: 待遇报销 queue; 0: office hours (a message); 5: a sub-menu whose 1 is a callback."""
    from app.models import IvrNode

    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "benefits"))
    root = IvrNode(kind="menu", label="欢迎", prompt="欢迎致电12393。待遇报销请按2。")
    db.session.add(root)
    db.session.flush()
    sub = IvrNode(parent_id=root.id, digit="5", kind="menu", label="其他", prompt="预约回拨请按1。")
    db.session.add_all([sub, IvrNode(parent_id=root.id, digit="2", kind="queue", label="待遇报销", queue_id=queue.id,
                                     prompt="正在转接"),
                        IvrNode(parent_id=root.id, digit="0", kind="message", label="办公时间",
                                prompt="工作日九点至五点半。")])
    db.session.flush()
    db.session.add(IvrNode(parent_id=sub.id, digit="1", kind="callback", label="预约回拨", prompt="已登记回拨"))
    db.session.commit()
    return root


def ivr(client, call_id: str, digit: str | None = None) -> dict:
    body = {"source": "kamailio", "call_id": call_id, **({"digit": digit} if digit is not None else {})}
    response = client.post("/cti/ivr/next", json=body, headers=TOKEN)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_caller_keys_through_the_voice_menu_to_the_queue_and_a_ready_agent(client, centre, menu):
    ready(centre["li"], -10)
    event(client, "incoming", "c1", 0, caller="13800000001")
    assert ivr(client, "c1") == {"action": "prompt", "text": "欢迎致电12393。待遇报销请按2。"}
    answer = ivr(client, "c1", "2")
    assert answer["action"] == "queue" and answer["queue"] == "benefits" and answer["offered_to"] == centre["li"].id
    call = contact("c1")
    assert (call.ivr_path, call.state, call.agent_id) == ("2", "offered", centre["li"].id)


def test_after_the_agent_hangs_up_the_caller_still_on_the_line_is_asked_for_the_survey(client, centre, menu):
    """While the agent talks the media component is told to wait; once the agent has hung up it
    asks the survey; a wrong key is asked again; 2 (满意) is stored once and the call says goodbye."""
    ready(centre["li"], -10)
    event(client, "incoming", "c1", 0, caller="13800000001")
    ivr(client, "c1")
    assert ivr(client, "c1", "2")["action"] == "queue"
    assert ivr(client, "c1") == {"action": "wait", "text": "正在为您接通坐席，请稍候。"}  # the agent's phone rings
    event(client, "answered", "c1", 8)
    assert ivr(client, "c1") == {"action": "pause"}
    event(client, "hangup", "c1", 60)
    assert ivr(client, "c1")["action"] == "survey"
    assert ivr(client, "c1", "8")["text"].startswith("您的输入有误")
    assert ivr(client, "c1", "2") == {"action": "hangup", "text": "感谢您的评价，再见。"}
    assert contact("c1").survey_score == 2
    assert ivr(client, "c1") == {"action": "hangup", "text": ""}  # asked once only
    event(client, "incoming", "c2", 100)
    ivr(client, "c2")
    event(client, "hangup", "c2", 103)  # gone from the menu before reaching anyone: no survey
    assert ivr(client, "c2") == {"action": "hangup", "text": ""}


def test_wrong_keys_are_forgiven_twice_then_the_caller_reaches_a_person(client, centre, menu):
    event(client, "incoming", "c1", 0)
    ivr(client, "c1")
    assert ivr(client, "c1", "7")["text"].startswith("您的输入有误")
    assert ivr(client, "c1", "9")["action"] == "prompt"
    assert ivr(client, "c1", "#")["action"] == "queue"  # the third wrong key: to the first queue
    assert contact("c1").state == "queued"


def test_a_sub_menu_leads_to_a_callback_request_and_a_message_ends_the_call(client, centre, menu):
    from app.models import Ticket

    event(client, "incoming", "c1", 0, caller="13800000002")
    ivr(client, "c1")
    assert ivr(client, "c1", "5") == {"action": "prompt", "text": "预约回拨请按1。"}
    assert ivr(client, "c1", "1")["action"] == "hangup"
    call = contact("c1")
    assert call.ivr_path == "5>1" and call.hangup_cause == "callback_requested"
    assert db.session.get(Ticket, call.ticket_id).caller_phone == "13800000002"
    event(client, "incoming", "c2", 10)
    ivr(client, "c2")
    assert ivr(client, "c2", "0") == {"action": "message", "text": "工作日九点至五点半。"}


def test_a_manager_adds_a_key_and_a_clash_or_missing_queue_is_refused(client, auth, centre, menu):
    from app.models import IvrNode
    from tests.conftest import csrf_token

    factories.user("manager1", ["manager"])
    auth.login("manager1")
    token = csrf_token(client, "/calls/ivr")
    form = {"csrf_token": token, "parent_id": menu.id, "digit": "2", "label": "异地就医", "kind": "queue", "prompt": ""}
    clash = client.post("/calls/ivr", data=form)
    assert clash.status_code == 422 and "按键 2 已用于“待遇报销”" in clash.get_data(as_text=True)
    assert "转人工须选择队列" in clash.get_data(as_text=True)
    queue = db.session.scalar(select(CallQueue).where(CallQueue.code == "benefits"))
    assert client.post("/calls/ivr", data={**form, "digit": "3", "queue_id": queue.id}).status_code == 302
    assert db.session.scalar(select(IvrNode).where(IvrNode.digit == "3")).label == "异地就医"
    page = client.get("/calls/ivr").get_data(as_text=True)
    assert "异地就医" in page and "欢迎致电12393" in page


def test_past_the_longest_wait_the_caller_is_offered_a_callback_and_takes_it_with_one_key(client, centre, menu):
    """待遇报销 allows 180 s: before that the waiting caller hears they are being connected; after it
    they are offered 预约回拨, and pressing 1 ends the call with a callback ticket."""
    event(client, "incoming", "c1", 0, caller="13800000003")
    with clock.frozen_at(at(1)):
        ivr(client, "c1")
        ivr(client, "c1", "2")  # queued at 1 s, nobody ready
    with clock.frozen_at(at(100)):
        assert ivr(client, "c1")["action"] == "wait"
        assert ivr(client, "c1", "1")["action"] == "wait"  # too early: the key does nothing
    with clock.frozen_at(at(200)):
        offer = ivr(client, "c1")
        assert offer["action"] == "offer_callback" and "按1" in offer["text"]
        assert ivr(client, "c1", "1")["action"] == "hangup"
    call = contact("c1")
    assert call.hangup_cause == "callback_requested" and call.ticket_id is not None and not call.abandoned


def test_the_agent_consults_a_colleague_through_the_media_component_and_the_command_is_audited(
        client, auth, centre, media_control):
    from app.models import AuditEntry
    from tests.conftest import csrf_token

    call = answered_call(client, auth, centre["li"])
    call.leg_call_id = "leg-1"
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'value="consult"' in page and 'value="wang"' in page and 'value="li"' not in page
    token = csrf_token(client, "/")
    talk = f"/calls/contacts/{call.id}/talk"
    json_only = {"Accept": "application/json"}
    answer = client.post(talk, data={"csrf_token": token, "action": "consult", "target": "wang"}, headers=json_only)
    assert answer.status_code == 200 and answer.get_json()["message"].startswith("正在呼叫同事")
    assert media_control == [("/calls/c1/consult", {"target": "wang"}, "Bearer test-cti-token")]
    refused = client.post(talk, data={"csrf_token": token, "action": "transfer"}, headers=json_only)
    assert (refused.status_code, refused.get_json()["error"]) == (409, "同事尚未接听")  # the component's reason
    unknown = client.post(talk, data={"csrf_token": token, "action": "consult", "target": "nobody"}, headers=json_only)
    assert unknown.get_json()["error"] == "请选择要咨询的同事" and len(media_control) == 2
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("call.%"))).all()
    assert entry.action == "call.consult" and entry.username == "li" and '"target": "wang"' in entry.data_json


def test_a_call_the_media_component_does_not_carry_cannot_be_transferred_and_only_the_own_call(
        client, auth, centre, media_control):
    from tests.conftest import csrf_token

    call = answered_call(client, auth, centre["li"])  # no leg_call_id: the switch connected it directly
    token = csrf_token(client, "/")
    answer = client.post(f"/calls/contacts/{call.id}/talk", data={"csrf_token": token, "action": "consult",
                                                                  "target": "wang"}, headers={"Accept": "application/json"})
    assert answer.status_code == 409 and "不经过语音平台" in answer.get_json()["error"]
    auth.logout()
    auth.login("wang")
    other = client.post(f"/calls/contacts/{call.id}/talk", data={"csrf_token": csrf_token(client, "/"),
                                                                 "action": "cancel"})
    assert other.status_code == 403 and media_control == []


def _wav(seconds: float, rate: int = 16000) -> bytes:
    import io
    import math
    import struct
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(2)
        track.setframerate(rate)
        track.writeframes(b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 440 * n / rate)))
                                   for n in range(int(seconds * rate))))
    return out.getvalue()


def test_a_manager_uploads_a_recorded_greeting_that_the_media_component_plays_instead_of_speech(
        client, auth, centre, menu):
    """The recording is kept as phone audio; the menu's answers name it (versioned) and the switch
    fetches it with its token; a file that is not WAV is refused by name; it can be removed."""
    import io

    from app.models import IvrNode
    from tests.conftest import csrf_token

    factories.user("manager1", ["manager"])
    auth.login("manager1")
    token = csrf_token(client, "/calls/ivr")
    form = {"csrf_token": token, "label": "欢迎", "kind": "menu", "prompt": "欢迎致电12393。待遇报销请按2。"}
    refused = client.post(f"/calls/ivr/{menu.id}", data={**form, "audio": (io.BytesIO(b"ID3 not a wav"), "a.mp3")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "录音须为 WAV 格式" in refused.get_data(as_text=True)
    saved = client.post(f"/calls/ivr/{menu.id}", data={**form, "audio": (io.BytesIO(_wav(2.0)), "欢迎语.wav")},
                        content_type="multipart/form-data")
    assert saved.status_code == 302
    db.session.expire_all()
    node = db.session.get(IvrNode, menu.id)
    assert (node.audio_name, round(node.audio_seconds, 1), len(node.audio)) == ("欢迎语.wav", 2.0, 16000)
    assert "欢迎语.wav（2 秒" in client.get("/calls/ivr").get_data(as_text=True)
    event(client, "incoming", "c1", 0)
    answer = ivr(client, "c1")
    assert answer["audio"] == f"/cti/ivr/audio/{menu.id}?v={node.audio_hash}" and answer["text"].startswith("欢迎致电")
    assert ivr(client, "c1", "9")["lead"] == "您的输入有误。"
    fetched = client.get(answer["audio"], headers=TOKEN)
    assert fetched.status_code == 200 and fetched.data == node.audio
    assert max(fetched.data) > 155 and min(fetched.data) < 101  # the tone (9000 of 32767) around 128, unsigned 8-bit
    assert client.get(answer["audio"]).status_code == 401
    client.post(f"/calls/ivr/{menu.id}", data={**form, "drop_audio": "1"}, content_type="multipart/form-data")
    event(client, "incoming", "c2", 10)
    assert "audio" not in ivr(client, "c2")
