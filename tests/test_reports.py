"""服务指标: a December built record by record — calls, survey answers, chats, tickets and their
deadlines, a policy change, a shift — gives exactly the figures worked out by hand, each traceable
to the rows that make it; a team's view counts only its agents."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, PolicyChange, SlaEvent, Ticket
from app.reports import indicators
from tests import factories
from workflows import clock

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=BEIJING)


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=BEIJING)


def call(n: int, agent, *, answered: bool = True, score: int | None = None, acw: float = 0.0,
         cause: str | None = None) -> Contact:
    at = local(1 + n, 9)
    row = Contact(channel="phone", source="kamailio", call_id=f"c{n}", caller=f"1380000000{n}", ivr_path="",
                  state="ended", started_at=at, queued_at=at + timedelta(seconds=5),
                  answered_at=at + timedelta(seconds=20) if answered else None, agent_id=agent.id if answered else None,
                  ended_at=at + timedelta(minutes=5), talk_seconds=280 if answered else 0, acw_seconds=acw,
                  abandoned=not answered and cause is None, hangup_cause=cause, survey_score=score)
    db.session.add(row)
    return row


def chat(n: int, agent, first_reply: int, close: int | None, rating: str | None) -> Contact:
    offered = local(10 + n, 10)
    row = Contact(channel="web", source="web", call_id=f"w{n}", party=f"w{n}", ivr_path="", state="ended",
                  started_at=offered, queued_at=offered, offered_at=offered, agent_id=agent.id,
                  answered_at=offered + timedelta(seconds=first_reply), completed_at=offered + timedelta(minutes=3),
                  ended_at=offered + timedelta(minutes=3, seconds=close or 0), chat_rating=rating)
    db.session.add(row)
    return row


@pytest.fixture
def december(app):
    team = factories.team("一班")
    li = factories.user("li", ["agent"], display_name="李娜")
    wang = factories.user("wang", ["agent"], display_name="王强")
    li.team_id = team.id
    # calls: four answered by 李娜 (surveys 1, 2, 2, 3; wrap-up 8, 12, 10, 6 s), one abandoned,
    # one whose caller chose a callback (not a request left unanswered)
    for n, (score, acw) in enumerate([(1, 8), (2, 12), (2, 10), (3, 6)]):
        call(n, li, score=score, acw=acw)
    call(4, li, answered=False)
    call(5, li, answered=False, cause="callback_requested")
    # 王强 answers one call in November: not this month
    db.session.add(Contact(channel="phone", source="kamailio", call_id="nov", ivr_path="", state="ended",
                           started_at=local(1, 9) - timedelta(days=5), queued_at=local(1, 9) - timedelta(days=5),
                           answered_at=local(1, 9) - timedelta(days=5), agent_id=wang.id, survey_score=4))
    # chats: first replies 12 s and 40 s (late); closes 10 s and 45 s (late); rated 满意 and 不满意
    chat(0, li, 12, 10, "satisfied")
    chat(1, wang, 40, 45, "dissatisfied")
    db.session.commit()
    # tickets: two first-handling deadlines in December, one met and one missed; one major event
    handled = db.session.get(Ticket, factories.ticket_started(li))
    missed = db.session.get(Ticket, factories.ticket_started(li))
    handled.first_handling_due_at, handled.first_handled_at = local(3, 17), local(3, 10)
    missed.first_handling_due_at, missed.first_handled_at = local(4, 17), None
    db.session.add(SlaEvent(ticket_id=missed.id, kind="major_event", due_at=local(5, 17), occurred_at=local(12, 17)))
    # a policy change due 12-03 17:00, entered 12-05 10:00: two days (started) late
    db.session.add(PolicyChange(title="2027 年门诊共济调整", received_at=local(2, 17), due_at=local(3, 17),
                                completed_at=local(5, 10), registered_at=local(2, 17)))
    db.session.commit()
    return {"li": li, "wang": wang, "team": team}


def figures(agent_ids=None) -> dict[str, indicators.Figure]:
    period = indicators.Period.of_month(NOW.date(), NOW, agent_ids)
    return {e.indicator.code: e.figure for e in indicators.compute_all(period)}


def test_each_measured_indicator_equals_the_hand_computed_figure(december):
    f = figures()
    assert (f["answer_rate"].numerator, f["answer_rate"].denominator) == (4, 5)  # the callback request is not counted
    assert f["answer_rate"].shown == "80.00%" and f["answer_rate"].met
    assert (f["satisfaction"].numerator, f["satisfaction"].denominator, f["satisfaction"].met) == (3, 4, False)
    assert f["acw"].value == pytest.approx(9.0) and f["acw"].met  # (8 + 12 + 10 + 6) / 4
    assert f["chat_satisfaction"].shown == "50.00%" and not f["chat_satisfaction"].met
    assert (f["chat_first_response"].value, f["chat_first_response"].denominator) == (1, 2)
    assert (f["chat_close"].value, f["chat_close"].denominator) == (1, 2)
    assert (f["first_handling"].value, f["first_handling"].denominator) == (1, 2)
    assert f["overdue_ticket"].value == 1 and not f["overdue_ticket"].met
    assert f["kb_timeliness"].shown == "0.00%（逾期 1 个工作日）"
    assert f["adherence"].value is None and f["adherence"].note == "本期没有排班"
    assert f["qa_accuracy"].value is None and f["qa_accuracy"].note == "本期没有已质检的样本"
    assert f["test_call_accuracy"].value is None and f["test_call_accuracy"].note == "本期没有拨测"


def test_a_teams_view_counts_only_its_agents(december):
    f = figures([december["li"].id])
    # 王强's late reply is not 一班's
    assert f["chat_first_response"].denominator == 1 and f["chat_first_response"].value == 0
    assert f["chat_satisfaction"].shown == "100.00%"


def test_the_page_shows_every_indicator_and_each_figure_opens_its_rows(client, auth, december):
    factories.user("boss", ["manager"])
    auth.login("boss")
    with clock.frozen_at(NOW):
        page = client.get("/reports/", query_string={"month": "2026-12"}).get_data(as_text=True)
        rows = client.get("/reports/indicators/answer_rate", query_string={"month": "2026-12"}).get_data(as_text=True)
        team = client.get("/reports/indicators/chat_first_response",
                          query_string={"month": "2026-12", "team": december["team"].id}).get_data(as_text=True)
    assert page.count('<tr data-indicator="') == 17
    assert 'href="/reports/indicators/answer_rate?month=2026-12"' in page
    body = rows[rows.index('id="indicator-rows"'):]
    assert body.count('data-key="contact:') == 5  # the five requests
    assert "13800000004" in body and "放弃" in body and "13800000005" not in body
    assert "王强" not in team[team.index('id="indicator-rows"'):]
    assert client.get("/reports/indicators/no_such_indicator").status_code == 404


def test_agents_do_not_see_the_reports(client, auth, december):
    auth.login("li")
    assert client.get("/reports/").status_code == 403
    assert db.session.scalar(select(Contact.id).where(Contact.call_id == "c0")) is not None
