"""In Chromium: the team lead's wallboard follows a real call (CTI events over HTTP) and a real web
chat as they happen, turns red in a surge, and the lead's actions reach the agent's own screen."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, CallQueue, Contact, Skill, UserSkill
from tests import factories
from tests.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser
_ids = count(1)
ZONE = ZoneInfo("Asia/Shanghai")


def _event(live_server: str, kind: str, call_id: str, **data) -> None:
    body = {"source": "kamailio", "event_id": f"board-{next(_ids)}", "kind": kind, "call_id": call_id,
            "at": datetime.now(UTC).isoformat(), "data": data}
    response = requests.post(f"{live_server}/cti/events", json=body, timeout=10,
                             headers={"Authorization": "Bearer test-cti-token"})
    assert response.status_code == 200, response.text


def _card(name: str) -> str:
    return f".agent-card:has(.ac-name:text-is('{name}'))"


def test_the_board_follows_a_call_and_a_chat_and_the_leads_actions_reach_the_agent(app, live_server, browser):
    benefit = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=benefit.id, min_level=1, ivr_digit="2"))
    factories.chat_queue("web_chat", "chat", "网页客服")
    chat = db.session.scalar(select(Skill).where(Skill.code == "chat"))
    li = factories.user("agent1", ["agent"], display_name="李娜")
    wang = factories.user("agent2", ["agent"], display_name="王强")
    db.session.add_all([UserSkill(user_id=li.id, skill_id=benefit.id, level=3),
                        UserSkill(user_id=li.id, skill_id=chat.id, level=3),
                        UserSkill(user_id=wang.id, skill_id=benefit.id, level=3)])
    db.session.commit()
    factories.user("lead1", ["team_lead"], display_name="孙班长")
    app.config.update(SURGE_WAITING=2)
    lead = signed_in(browser, live_server, "lead1", width=1600, height=1000)
    agent = signed_in(browser, live_server, "agent1")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 760}, is_mobile=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(10_000)
    try:
        lead.goto(f"{live_server}/monitor/")
        lead.wait_for_selector("#board-live.on")
        lead.wait_for_selector(f"{_card('李娜')}.state-logged_out")
        agent.keyboard.press("F8")  # 示闲 on the agent's own bar
        lead.wait_for_selector(f"{_card('李娜')}.state-ready", timeout=3000)
        # a citizen writes on the web page: the conversation goes to 李娜 and shows on her card
        citizen.goto(f"{live_server}/chat/")
        citizen.fill("#wc-text", "请问异地备案怎么办？")
        citizen.keyboard.press("Enter")
        citizen.wait_for_selector(".wc-in")
        lead.wait_for_selector(f"{_card('李娜')} .ac-contact:has-text('会话 1')", timeout=3000)
        _event(live_server, "incoming", "board-call-1", caller="13800000001")
        _event(live_server, "queued", "board-call-1", queue="benefit")
        lead.wait_for_selector(f"{_card('李娜')}.state-reserved", timeout=3000)
        _event(live_server, "answered", "board-call-1")
        lead.wait_for_selector(f"{_card('李娜')}.state-talking", timeout=3000)
        lead.wait_for_selector(f"{_card('李娜')} .ac-contact:has-text('138****0001')")
        assert lead.inner_text(".tile[data-figure='answer_rate'] .tile-value") == "100.0%"
        # three more callers, nobody free: the queue fills and the surge banner shows (two waiting)
        for n in (2, 3, 4):
            _event(live_server, "incoming", f"board-call-{n}", caller=f"1380000000{n}")
            _event(live_server, "queued", f"board-call-{n}", queue="benefit")
        lead.wait_for_selector("#board-surge:not([hidden])", timeout=3000)
        lead.wait_for_selector("#board-queues tr[data-queue='benefit'] td.num:text-is('3')")
        screenshot(lead, "monitor-01-board-surge")
        _event(live_server, "hangup", "board-call-1")
        lead.wait_for_selector(f"{_card('李娜')}.state-after_call_work", timeout=3000)
        agent.click("button:has-text('整理完成')")
        lead.wait_for_selector(f"{_card('李娜')}.state-reserved", timeout=3000)  # a waiting call went to her at once
        lead.wait_for_selector("#board-queues tr[data-queue='benefit'] td.num:text-is('2')")  # still a surge
        # the lead pulls 王强 in: he is not ready; everyone who is goes ready and takes a call
        from telephony_adapter import agents
        from workflows import clock

        agents.set_state(wang.id, "not_ready", clock.now(), "break")
        lead.wait_for_selector(f"{_card('王强')}.state-not_ready", timeout=3000)
        lead.once("dialog", lambda dialog: dialog.accept())
        lead.click("#board-pull")
        lead.wait_for_selector("#board-lead-note:has-text('已将 1 位示忙坐席转为示闲')")
        lead.wait_for_selector(f"{_card('王强')}.state-reserved", timeout=3000)
        lead.wait_for_selector("#board-surge[hidden]", state="attached", timeout=3000)
        # the lead opens 王强's card and forces him to 示忙 — refused: he is on a call
        lead.click(_card("王强"))
        lead.select_option("#agent-dialog-reason", "meeting")
        screenshot(lead, "monitor-02-agent-dialog")
        lead.click("#agent-dialog [data-force='not_ready']")
        lead.wait_for_selector("#agent-dialog-error:has-text('正在通话')")
        lead.click("#agent-dialog-contact button")  # his call's screen pop, as he sees it
        lead.wait_for_selector("#screen-pop .pop-caller:has-text('13800000003')")
        lead.click("#screen-pop .pop-close")
        lead.fill("#board-broadcast-form input[name=text]", "12:00 系统升级，请提前保存工单")
        lead.click("#board-broadcast-form button")
        lead.wait_for_selector("#board-lead-note:has-text('广播已发送给 2 位在线坐席')")
        agent.wait_for_selector(".agent-broadcast:has-text('12:00 系统升级，请提前保存工单')", timeout=3000)
        screenshot(agent, "monitor-03-agent-broadcast")
        lead.wait_for_selector("#board-broadcast:not([hidden])")
        lead.click("#board-full")
        lead.wait_for_selector("body.board-full")
        screenshot(lead, "monitor-04-full-screen")
        db.session.expire_all()
        assert db.session.get(AgentPresence, wang.id).state == "reserved"
    finally:
        phone.close()
        agent.context.close()
        lead.context.close()


def test_the_lead_schedules_a_week_in_the_grid_and_reads_attendance(app, live_server, browser):
    from datetime import date, timedelta

    from app.models import Shift
    from app.workforce.schedule import shift_times
    from workflows import clock

    team = factories.team("一班")
    people = [factories.user(name, ["agent"], display_name=label) for name, label in
              (("agent1", "李娜"), ("agent2", "王强"), ("agent3", "赵敏"))]
    for person in people:
        person.team_id = team.id
    factories.user("lead1", ["team_lead"], display_name="孙班长")
    today = clock.now().astimezone(ZONE).date()
    monday = today - timedelta(days=today.weekday())
    plan = {"早班": ("08:00", "16:00"), "中班": ("16:00", "00:00"), "夜班": ("00:00", "08:00")}
    from app.workforce.schedule import parse_time

    for n in range(7):
        day = monday + timedelta(days=n)
        for person, (label, (start, end)) in zip(people, plan.items(), strict=True):
            if (n + people.index(person)) % 7 == 6:
                continue  # a day off each, so the grid shows gaps
            begins, ends = shift_times(day, parse_time(start), parse_time(end))
            db.session.add(Shift(user_id=person.id, starts_at=begins, ends_at=ends, label=label,
                                 updated_at=clock.now()))
    db.session.commit()
    lead = signed_in(browser, live_server, "lead1", width=1400, height=900)
    try:
        lead.goto(f"{live_server}/workforce/schedule")
        lead.wait_for_selector("#schedule-grid")
        assert lead.locator(".coverage span.gap").count() > 0  # the days off leave hours uncovered
        empty = lead.locator(f".shift-cell[data-agent='{people[0].id}']:not(:has(.shift))").first
        day = empty.get_attribute("data-day")
        empty.click()
        lead.fill("#shift-form input[name=start]", "08:00")
        lead.fill("#shift-form input[name=end]", "16:00")
        lead.fill("#shift-form input[name=label]", "加班")
        lead.click("#shift-form button.primary")
        lead.wait_for_selector("text=班次已保存。")
        lead.wait_for_selector(f".shift-cell[data-agent='{people[0].id}'][data-day='{day}'] .shift:has-text('加班')")
        screenshot(lead, "workforce-01-week")
        lead.goto(f"{live_server}/workforce/attendance")
        lead.wait_for_selector("#attendance-table")
        assert "一班 合计" in lead.inner_text("#attendance-table")
        screenshot(lead, "workforce-02-attendance")
    finally:
        lead.context.close()
    assert date.fromisoformat(day) >= monday


def _board_and_agent(browser, live_server: str):
    """孙班长 (lead1) watching the board, and 王强 (agent2) signed in on his own page."""
    lead = signed_in(browser, live_server, "lead1", width=1400, height=800)
    agent = signed_in(browser, live_server, "agent2")
    lead.goto(f"{live_server}/monitor/")
    lead.wait_for_selector("#board-live.on")
    agent.goto(f"{live_server}/inbox/")
    return lead, agent


def test_the_board_marks_an_agent_who_signs_in_from_outside_the_office(app, live_server, browser):
    """场外坐席: the office is 10/8; 王强's browser (127.0.0.1) is at home. He presses 示闲 and the
    lead's board shows him ready, marked 远程; 李娜, who never signed in, is not marked."""
    factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("agent2", ["agent"], display_name="王强")
    factories.user("lead1", ["team_lead"], display_name="孙班长")
    app.config["OFFICE_NETWORKS"] = "10.0.0.0/8"
    lead, agent = _board_and_agent(browser, live_server)
    try:
        agent.keyboard.press("F8")  # 示闲, from home
        lead.wait_for_selector(f"{_card('王强')}.state-ready.remote", timeout=5000)
        assert lead.locator(f"{_card('李娜')}.remote").count() == 0
        screenshot(lead, "monitor-05-remote-seat")
    finally:
        app.config["OFFICE_NETWORKS"] = ""
        lead.context.close()
        agent.context.close()


def test_an_agent_whose_phone_is_unplugged_shows_busy_with_the_reason_on_the_board_and_on_their_bar(
        app, live_server, browser):
    """王强 pressed 示闲 but his desk phone is unplugged: the call offered to him fails at the switch
    (坐席话机未注册). The platform sets him 示忙 with the reason, so the lead sees why on the board and
    he sees it on his own bar, and no more calls are offered to him until he presses 示闲 again."""
    benefit = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=benefit.id, min_level=1, ivr_digit="2"))
    wang = factories.user("agent2", ["agent"], display_name="王强")
    db.session.add(UserSkill(user_id=wang.id, skill_id=benefit.id, level=3))
    db.session.commit()
    factories.user("lead1", ["team_lead"], display_name="孙班长")
    lead, agent = _board_and_agent(browser, live_server)
    try:
        agent.keyboard.press("F8")  # 示闲
        lead.wait_for_selector(f"{_card('王强')}.state-ready", timeout=3000)
        _event(live_server, "incoming", "unplugged-1", caller="13800000009")
        _event(live_server, "queued", "unplugged-1", queue="benefit")
        lead.wait_for_selector(f"{_card('王强')}.state-reserved", timeout=3000)
        _event(live_server, "hangup", "unplugged-1", cause="agent_unregistered")
        lead.wait_for_selector(f"{_card('王强')}.state-not_ready:has-text('话机未注册')", timeout=3000)
        screenshot(lead, "monitor-06-phone-unregistered")
        agent.reload()
        assert agent.inner_text(".agent-state").strip().startswith("示忙（话机未注册）")
        screenshot(agent, "monitor-07-agent-bar-phone-unregistered")
        _event(live_server, "incoming", "unplugged-2", caller="13800000010")
        _event(live_server, "queued", "unplugged-2", queue="benefit")
        db.session.expire_all()
        waiting = db.session.scalar(select(Contact).where(Contact.call_id == "unplugged-2"))
        assert waiting.state == "queued" and waiting.agent_id is None  # not offered to him
    finally:
        lead.context.close()
        agent.context.close()
