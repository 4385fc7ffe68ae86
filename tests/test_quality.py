"""质检: a day's work sampled by agent and channel (every stratum at least once, the same day never
twice); QA scores with the seed's error types; the agent appeals, the team lead decides; the
month's 质检准确率 and its deduction follow, an overturned error counting as none."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Contact, Ticket
from app.models.quality import QaSample
from app.quality import services
from app.reports import assessment
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

BEIJING = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 12, 8, 9, 0, tzinfo=BEIJING)


@pytest.fixture
def day_of_work(app):
    li = factories.user("li", ["agent"], display_name="李娜")
    wang = factories.user("wang", ["agent"], display_name="王强")
    rows = []
    for n in range(10):  # 李娜: ten answered calls …
        rows.append(Contact(channel="phone", source="t", call_id=f"c{n}", ivr_path="", state="ended", agent_id=li.id,
                            started_at=DAY + timedelta(minutes=n), answered_at=DAY + timedelta(minutes=n, seconds=9)))
    for n in range(2):  # … and two chats
        rows.append(Contact(channel="web", source="web", call_id=f"w{n}", party=f"w{n}", ivr_path="", state="ended",
                            agent_id=li.id, started_at=DAY + timedelta(hours=1, minutes=n),
                            answered_at=DAY + timedelta(hours=1, minutes=n, seconds=5)))
    rows.append(Contact(channel="phone", source="t", call_id="w-call", ivr_path="", state="ended", agent_id=wang.id,
                        started_at=DAY, answered_at=DAY + timedelta(seconds=3)))
    rows.append(Contact(channel="phone", source="t", call_id="missed", ivr_path="", state="ended", started_at=DAY,
                        abandoned=True))  # nobody answered: nothing to review
    db.session.add_all(rows)
    db.session.commit()
    for _ in range(3):  # 王强 recorded three tickets
        ticket = db.session.get(Ticket, factories.ticket_started(wang))
        ticket.created_at, ticket.owner_id = DAY + timedelta(hours=2), wang.id
    db.session.commit()
    return {"li": li, "wang": wang}


def test_each_agent_and_channel_is_sampled_and_a_day_only_once(day_of_work):
    drawn = services.sample_day(DAY.date(), share=0.2, seed=7)
    samples = db.session.scalars(select(QaSample)).all()
    strata = sorted((s.agent.username, s.kind) for s in samples)
    # 李娜: 2 of 10 calls, 1 of 2 chats; 王强: his one call, 1 of 3 tickets
    assert drawn == 5 and strata == [("li", "call"), ("li", "call"), ("li", "chat"), ("wang", "call"),
                                      ("wang", "ticket")]
    assert all(s.contact is None or s.contact.call_id != "missed" for s in samples)
    assert services.sample_day(DAY.date(), share=0.2) == 0  # already drawn


def _score(client, sample, errors, comment):
    token = csrf_token(client, "/quality/")
    return client.post(f"/quality/samples/{sample.id}/score", data={"csrf_token": token, "errors": errors,
                                                                     "comment": comment}, follow_redirects=True)


def test_qa_scores_the_agent_appeals_the_lead_decides_and_the_month_follows(client, auth, day_of_work):
    services.sample_day(DAY.date(), share=0.2, seed=7)
    li_samples = db.session.scalars(select(QaSample).where(QaSample.agent_id == day_of_work["li"].id)
                                    .order_by(QaSample.id)).all()
    factories.user("qa1", ["qa"])
    auth.login("qa1")
    page = client.get("/quality/", query_string={"day": DAY.date().isoformat()}).get_data(as_text=True)
    assert page.count('data-sample="') == 5
    refused = _score(client, li_samples[0], ["common_sense"], "").get_data(as_text=True)
    assert "判定有错误时请写明问题所在" in refused
    _score(client, li_samples[0], ["common_sense"], "把门诊慢特病说成了住院报销")
    _score(client, li_samples[1], ["ticket_form"], "工单未填写诉求人电话")
    _score(client, li_samples[2], [], "")
    chat_view = client.get(f"/quality/samples/{li_samples[2].id}").get_data(as_text=True)
    assert "查看会话内容记入审计" in chat_view
    token = csrf_token(client, "/quality/")
    client.post(f"/quality/samples/{li_samples[0].id}/example", data={"csrf_token": token, "example": "1"})
    auth.logout()
    # 李娜 appeals the ticket-form error; 王强 may not touch her samples
    auth.login("wang")
    token = csrf_token(client, "/quality/mine")
    assert client.get(f"/quality/samples/{li_samples[1].id}").status_code == 403
    auth.logout()
    auth.login("li")
    token = csrf_token(client, "/quality/mine")
    mine = client.get("/quality/mine").get_data(as_text=True)
    assert "已质检 3 个，无差错 1 个" in mine
    client.post(f"/quality/samples/{li_samples[1].id}/appeal", data={"csrf_token": token,
                                                                     "appeal": "电话字段按规定可留空（市民拒绝提供）"})
    again = client.post(f"/quality/samples/{li_samples[1].id}/appeal", data={"csrf_token": token, "appeal": "再申诉"},
                        follow_redirects=True).get_data(as_text=True)
    assert "只能申诉一次" in again
    auth.logout()
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    token = csrf_token(client, "/quality/")
    client.post(f"/quality/samples/{li_samples[1].id}/decide", data={"csrf_token": token, "decision": "overturned",
                                                                     "note": "市民拒绝提供电话，记录无误"})
    db.session.expire_all()
    assert [s.correct for s in li_samples] == [False, True, True]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("qa.%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["qa.score", "qa.score", "qa.score", "qa.example", "qa.appeal", "qa.decide"]
    # the month for 李娜: 2 of 3 correct; 31 points under 97 % × 100, plus one common-sense error × 200
    with clock.frozen_at(DAY + timedelta(days=5)):
        result = assessment.assess(DAY.date().replace(day=1), clock.now(), [day_of_work["li"].id])
    [line] = [x for x in result.lines if x.evaluation.indicator.code == "qa_accuracy"]
    assert (line.evaluation.figure.numerator, line.evaluation.figure.denominator) == (2, 3)
    assert line.deduction.amount == 31 * 100 + 200
    cases = client.get("/quality/cases").get_data(as_text=True)
    assert "把门诊慢特病说成了住院报销" in cases and "李娜" not in cases  # shared without the name


def test_agents_cannot_open_the_qa_desk_or_score(client, auth, day_of_work):
    services.sample_day(DAY.date(), share=0.2, seed=7)
    sample = db.session.scalar(select(QaSample).where(QaSample.agent_id == day_of_work["li"].id))
    auth.login("li")
    assert client.get("/quality/").status_code == 403
    token = csrf_token(client, "/quality/mine")
    assert client.post(f"/quality/samples/{sample.id}/score", data={"csrf_token": token}).status_code == 403
