"""月度考核: December's deductions by the seed's rules, worked out by hand; a manager leaves out a
record and a force majeure day (with reasons, audited) and the figures and the total follow; the
answer rate's three-months rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Contact
from app.reports import assessment
from tests import factories
from tests.conftest import csrf_token
from tests.test_reports import NOW, december  # noqa: F401 - the hand-built month, shared
from workflows import clock


def amounts(result) -> dict[str, int | None]:
    return {line.evaluation.indicator.code: line.deduction.amount if line.deduction else None for line in result.lines}


def test_decembers_deductions_follow_the_rules(december):  # noqa: F811
    result = assessment.assess(NOW.date().replace(day=1), NOW)
    got = amounts(result)
    assert got["satisfaction"] == 0  # 75 %: below 90 %, a major item (no sum set)
    assert got["first_handling"] == 100 and got["overdue_ticket"] == 10_000
    assert got["kb_timeliness"] == 1_000  # one document, one working day late (due Thu, done Sat)
    assert got["chat_first_response"] == 1_000 and got["chat_close"] == 200
    assert got["answer_rate"] == 0 and got["acw"] == 0 and got["chat_satisfaction"] == 0
    assert got["adherence"] == 0 and got["qa_accuracy"] == 0  # nothing scheduled, nothing sampled
    assert got["test_call_accuracy"] == 0 and got["complaints"] == 0  # no test calls, no complaints
    assert result.total == 12_300
    assert [line.evaluation.indicator.code for line in result.major_events] == ["satisfaction", "overdue_ticket"]


def test_satisfaction_tiers_and_wrap_up_cap():
    from app.reports.indicators import Evaluation, Figure

    def cost(code, value):
        from app.reports import indicators

        evaluation = Evaluation(indicators.BY_CODE[code], Figure(value, "", None))
        return assessment.deduction(evaluation, None, {})

    assert cost("satisfaction", 0.97).amount == 0
    assert cost("satisfaction", 0.962).amount == 1_000  # 0.8 of a point: a started point
    assert cost("satisfaction", 0.935).amount == 4 * 3_000  # 90–95 %: 3,000 per point below 97 %
    assert cost("satisfaction", 0.89).major and cost("satisfaction", 0.89).amount == 0
    assert cost("acw", 9.9).amount == 0 and cost("acw", 12.2).amount == 600 and cost("acw", 40).amount == 3_000


def test_a_manager_leaves_out_a_record_and_a_force_majeure_day_and_the_total_follows(client, auth, december):  # noqa: F811
    factories.user("boss", ["manager"])
    auth.login("boss")
    token = csrf_token(client, "/reports/assessment")
    late_chat = db.session.scalar(select(Contact).where(Contact.call_id == "w1"))
    with clock.frozen_at(NOW):
        refused = client.post("/reports/assessment/exclude", data={
            "csrf_token": token, "month": "2026-12", "indicator": "chat_first_response",
            "item": f"contact:{late_chat.id}", "reason": " "}, follow_redirects=True)
        assert "请填写理由" in refused.get_data(as_text=True)
        client.post("/reports/assessment/exclude", data={
            "csrf_token": token, "month": "2026-12", "indicator": "chat_first_response",
            "item": f"contact:{late_chat.id}", "reason": "市民网络中断，坐席回复未送达，已核实"})
        client.post("/reports/assessment/exclude", data={
            "csrf_token": token, "month": "2026-12", "indicator": "*", "item": "2026-12-12",
            "reason": "全市通信线路中断（运营商故障单 2026-1212-07）"})
        client.post("/reports/assessment/note", data={"csrf_token": token, "month": "2026-12",
                                                      "indicator": "satisfaction", "text": "已约谈相关坐席"})
        page = client.get("/reports/assessment", query_string={"month": "2026-12"}).get_data(as_text=True)
        rows = client.get("/reports/indicators/chat_first_response", query_string={"month": "2026-12"}
                          ).get_data(as_text=True)
        result = assessment.assess(NOW.date().replace(day=1), NOW)
    got = amounts(result)
    assert got["chat_first_response"] == 0 and got["overdue_ticket"] == 0  # the major event fell on 12-12
    assert result.total == 12_300 - 1_000 - 10_000
    assert "1,300 元" in page and "已约谈相关坐席" in page and "全市通信线路中断" in page
    assert "市民网络中断，坐席回复未送达，已核实" in rows and "已排除" in rows
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("assessment.%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["assessment.exclude", "assessment.exclude", "assessment.note"]
    # taken back: the figure counts the record again
    mark = next(m for m in assessment.marks(NOW.date().replace(day=1)) if m.item == f"contact:{late_chat.id}")
    client.post(f"/reports/assessment/marks/{mark.id}/delete", data={"csrf_token": token})
    with clock.frozen_at(NOW):
        assert amounts(assessment.assess(NOW.date().replace(day=1), NOW))["chat_first_response"] == 1_000


def test_a_team_lead_reads_the_assessment_but_cannot_change_it(client, auth, december):  # noqa: F811
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    with clock.frozen_at(NOW):
        page = client.get("/reports/assessment", query_string={"month": "2026-12"})
    assert page.status_code == 200 and "force-majeure-form" not in page.get_data(as_text=True)
    token = csrf_token(client, "/reports/assessment")
    assert client.post("/reports/assessment/note", data={"csrf_token": token, "month": "2026-12",
                                                         "indicator": "acw", "text": "x"}).status_code == 403


def test_three_months_of_answer_rate_below_80_percent_is_a_major_event(app):
    agent = factories.user("li", ["agent"])
    for month in (10, 11, 12):
        for n, answered in enumerate((True, False, False)):
            at = datetime(2026, month, 3, 9, n, tzinfo=NOW.tzinfo)
            db.session.add(Contact(channel="phone", source="kamailio", call_id=f"m{month}-{n}", ivr_path="",
                                   state="ended", started_at=at, queued_at=at, abandoned=not answered,
                                   answered_at=at + timedelta(seconds=10) if answered else None,
                                   agent_id=agent.id if answered else None))
    db.session.commit()
    december_line = next(line for line in assessment.assess(NOW.date().replace(day=1), NOW).lines
                         if line.evaluation.indicator.code == "answer_rate")
    assert december_line.deduction.major and "连续三个月" in december_line.deduction.how
    november_line = next(line for line in assessment.assess(datetime(2026, 11, 1).date(), NOW).lines
                         if line.evaluation.indicator.code == "answer_rate")
    # November is below 80 % too (a major item), but September had no calls: not three months running
    assert november_line.deduction.major and "连续三个月" not in november_line.deduction.how
