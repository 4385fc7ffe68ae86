"""考核记录: a manager and QA record December's test calls, exams, complaints and ticket-record
checks through the page; bad entries are refused with the reason and nothing kept; the four
indicators and their deductions come out as worked out by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AgentComplaint, AuditEntry, ExamResult, RecordReview, TestCall, Ticket
from app.reports import assessment
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def desk(client, auth):
    li = factories.user("li", ["agent"], display_name="李娜")
    wang = factories.user("wang", ["agent"], display_name="王强")
    tickets = [db.session.get(Ticket, factories.ticket_started(li)).number for _ in range(3)]
    factories.user("boss", ["manager"])
    auth.login("boss")
    return {"li": li, "wang": wang, "tickets": tickets, "token": csrf_token(client, "/quality/records")}


def post(client, desk, kind: str, tab: str, **fields):
    return client.post(f"/quality/records/{kind}", data={"csrf_token": desk["token"], "tab": tab, "month": "2026-12",
                                                         **fields}, follow_redirects=True).get_data(as_text=True)


def lines() -> dict:
    with clock.frozen_at(NOW):
        result = assessment.assess(NOW.date().replace(day=1), NOW)
    return {line.evaluation.indicator.code: line for line in result.lines}


def test_test_calls(client, desk):
    post(client, desk, "question", "test_calls", question="异地就医备案有哪些渠道？",
         expected="国家医保服务平台 APP、参保地经办窗口、12393 电话")
    from app.models import TestQuestion

    question = db.session.scalar(select(TestQuestion))
    refused = post(client, desk, "test_call", "test_calls", question_id=question.id,
                   called_at="2026-12-03T10:00", agent_id=desk["li"].id, correct="0", note="")
    assert "回答不正确时请写明问题" in refused and db.session.scalar(select(func.count(TestCall.id))) == 0
    for n, correct in enumerate(["1", "1", "1", "0"]):
        post(client, desk, "test_call", "test_calls", question_id=question.id, called_at=f"2026-12-0{n + 3}T10:00",
             agent_id=desk["li"].id, correct=correct, note="漏答了经办窗口" if correct == "0" else "")
    line = lines()["test_call_accuracy"]
    assert line.evaluation.figure.shown == "75.00%"
    assert line.deduction.amount == 20 * 1_000  # 20 points under 95 %
    page = client.get("/quality/records", query_string={"tab": "test_calls", "month": "2026-12"}).get_data(as_text=True)
    assert "漏答了经办窗口" in page and "准确率 75.0%" in page


def test_exams_and_retakes(client, desk):
    li, wang = desk["li"].id, desk["wang"].id
    early = post(client, desk, "exam", "exams", person_id=li, training="12 月政策培训", taken_on="2026-12-02",
                 attempt="2", score="90")
    assert "补考须在上一次考试未通过之后" in early
    assert "成绩须在 0–100 分之间" in post(client, desk, "exam", "exams", person_id=li, training="12 月政策培训",
                                           taken_on="2026-12-02", attempt="1", score="101")
    for person, attempt, score, day in [(li, 1, 70, "02"), (li, 2, 75, "09"), (li, 3, 85, "16"), (wang, 1, 90, "02")]:
        post(client, desk, "exam", "exams", person_id=person, training="12 月政策培训", taken_on=f"2026-12-{day}",
             attempt=str(attempt), score=str(score))
    line = lines()["training_pass_rate"]
    assert line.evaluation.figure.shown == "50.00%"
    assert line.deduction.amount == 1_000 + 2_000  # failed the exam, then failed the first retake
    assert db.session.scalar(select(func.count(ExamResult.id))) == 4


def test_complaints_by_channel_and_cause(client, desk):
    li, wang = desk["li"].id, desk["wang"].id
    assert "找不到该工单号" in post(client, desk, "complaint", "complaints", agent_id=li, received_on="2026-12-04",
                                   source="internal", upheld="1", summary="答复不清", ticket_number="NOPE")
    cases = [(li, "internal", "", "1"), (wang, "external", "1", "1"), (wang, "internal", "1", "0"), (li, "external", "", "")]
    for agent, source, attitude, upheld in cases:
        post(client, desk, "complaint", "complaints", agent_id=agent, received_on="2026-12-05", source=source,
             attitude=attitude, upheld=upheld, summary="市民投诉", ticket_number=desk["tickets"][0])
    line = lines()["complaints"]
    assert (line.evaluation.figure.value, line.evaluation.figure.denominator) == (2, 4)
    assert line.deduction.amount == 200 + 2_000  # own channel, not attitude; outside channel, attitude
    assert db.session.scalar(select(func.count(AgentComplaint.id))) == 4


def test_ticket_record_checks(client, desk):
    first, second, third = desk["tickets"]
    assert "记录有误时请写明问题" in post(client, desk, "review", "reviews", ticket_number=first,
                                          reviewed_on="2026-12-06", faulty="1", note="")
    post(client, desk, "review", "reviews", ticket_number=first, reviewed_on="2026-12-06", faulty="1", bad_outcome="1",
         note="诉求地址错记，转错区县，延误办理")
    post(client, desk, "review", "reviews", ticket_number=second, reviewed_on="2026-12-06", faulty="1",
         note="联系电话少一位，回访时已更正")
    post(client, desk, "review", "reviews", ticket_number=third, reviewed_on="2026-12-06", faulty="0")
    line = lines()["record_accuracy"]
    assert line.evaluation.figure.shown == "33.33%" and line.deduction.amount == 500
    assert db.session.scalar(select(func.count(RecordReview.id))) == 3
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("assess.%"))).all()
    assert actions == ["assess.record_review"] * 3


def test_agents_may_not_record(client, auth, desk):
    auth.logout()
    auth.login("li")
    token = csrf_token(client, "/")
    assert client.get("/quality/records").status_code == 403
    assert client.post("/quality/records/review", data={"csrf_token": token}).status_code == 403
