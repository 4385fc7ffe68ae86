"""One December worked out by hand, every one of the 17 indicators and every deduction: the calls,
chats, tickets and policy change of the reports' December, plus two shifts with their sign-ins,
QA samples, test calls, exams, complaints and ticket-record checks. The figures come from the
database's counting (calls, chats, tickets) and from the records (the rest); the same month broken
down by agent and read as a run of days gives the figures worked out by hand too."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import (
    AgentComplaint,
    AgentStateLog,
    ExamResult,
    QaSample,
    RecordReview,
    Shift,
    TestCall,
    TestQuestion,
    Ticket,
)
from app.reports import assessment, indicators
from tests import factories
from tests.test_reports import NOW, december, local  # noqa: F401 - the hand-built month, shared
from workflows import clock


def _log(user, state: str, start, end) -> None:
    db.session.add(AgentStateLog(user_id=user.id, state=state, started_at=start, ended_at=end))


@pytest.fixture
def whole_december(december):  # noqa: F811
    li, wang = december["li"], december["wang"]
    boss = factories.user("boss", ["manager"])
    # 排班: one 8-hour shift each. 李娜 signs in at 08:59 and stays to 17:05, serving 10:00–15:00
    # (talking, then wrap-up): on time twice, 5 h of 8 = 62.5 %. 王强 signs in at 09:05 (late) and
    # leaves at 16:50 (early), talking all the while: on time never, 465 of 480 min = 96.9 %.
    db.session.add_all([Shift(user_id=li.id, starts_at=local(7, 9), ends_at=local(7, 17), label="早班"),
                        Shift(user_id=wang.id, starts_at=local(8, 9), ends_at=local(8, 17), label="早班")])
    _log(li, "ready", local(7, 8, 59), local(7, 10))
    _log(li, "talking", local(7, 10), local(7, 14))
    _log(li, "after_call_work", local(7, 14), local(7, 15))
    _log(li, "ready", local(7, 15), local(7, 17, 5))
    _log(wang, "talking", local(8, 9, 5), local(8, 16, 50))
    # 质检: 李娜's three scored samples — one clean, one common-sense error, one ticket-form error
    # overturned on appeal — and one still pending (not counted): 2 of 3 correct
    for n, (errors, decision, status) in enumerate([("", None, "scored"), ("common_sense", None, "scored"),
                                                    ("ticket_form", "overturned", "decided"), ("", None, "pending")]):
        db.session.add(QaSample(day=date(2026, 12, 2 + n), agent_id=li.id, kind="call", status=status, errors=errors,
                                decision=decision))
    # 拨测: four calls, three answered right
    question = TestQuestion(question="异地就医备案有哪些渠道？", expected="国家医保服务平台 APP、经办窗口、12393")
    db.session.add(question)
    db.session.flush()
    for n, correct in enumerate([True, True, True, False]):
        db.session.add(TestCall(question_id=question.id, called_at=local(3 + n, 10), agent_id=li.id, correct=correct,
                                note="" if correct else "漏答经办窗口", tester_id=boss.id))
    # 培训考核: 李娜 fails first (75) and passes the retake (85); 王强 passes (90)
    db.session.add_all([
        ExamResult(user_id=li.id, training="12 月政策培训", taken_on=date(2026, 12, 9), attempt=1, score=75,
                   recorded_by=boss.id),
        ExamResult(user_id=li.id, training="12 月政策培训", taken_on=date(2026, 12, 16), attempt=2, score=85,
                   recorded_by=boss.id),
        ExamResult(user_id=wang.id, training="12 月政策培训", taken_on=date(2026, 12, 9), attempt=1, score=90,
                   recorded_by=boss.id)])
    # 投诉: own channel, not attitude, upheld (200); outside, attitude, upheld (2,000); one not upheld
    db.session.add_all([
        AgentComplaint(agent_id=li.id, received_on=date(2026, 12, 5), source="internal", attitude=False, upheld=True,
                       summary="答复不完整", recorded_by=boss.id),
        AgentComplaint(agent_id=wang.id, received_on=date(2026, 12, 6), source="external", attitude=True, upheld=True,
                       summary="语气生硬（12345 转来）", recorded_by=boss.id),
        AgentComplaint(agent_id=wang.id, received_on=date(2026, 12, 7), source="internal", attitude=True, upheld=False,
                       summary="经核实录音无不当", recorded_by=boss.id)])
    # 工单记录抽查: one accurate, one wrong with a bad outcome (500)
    tickets = db.session.query(Ticket).order_by(Ticket.id).all()
    db.session.add_all([
        RecordReview(ticket_id=tickets[0].id, reviewed_on=date(2026, 12, 14), faulty=False, reviewer_id=boss.id),
        RecordReview(ticket_id=tickets[1].id, reviewed_on=date(2026, 12, 14), faulty=True, bad_outcome=True,
                     note="联系电话记错，回访未接通", reviewer_id=boss.id)])
    db.session.commit()
    return december


def test_every_indicator_and_every_deduction_of_the_month_is_what_the_hand_computed(whole_december):
    with clock.frozen_at(NOW):
        result = assessment.assess(NOW.date().replace(day=1), NOW)
    lines = {line.evaluation.indicator.code: line for line in result.lines}
    assert len(lines) == 17
    shown = {code: line.evaluation.figure.shown for code, line in lines.items()}
    amounts = {code: line.deduction.amount for code, line in lines.items()}
    assert shown == {
        "answer_rate": "80.00%",  # 4 answered of 5 requests (the callback request is not one)
        "satisfaction": "75.00%",  # surveys 1, 2, 2, 3
        "chat_satisfaction": "50.00%",  # 满意 and 不满意
        "acw": "9.0 秒",  # (8 + 12 + 10 + 6) / 4
        "first_handling": "超时 1 件",
        "overdue_ticket": "1 件",
        "record_accuracy": "50.00%",
        "utilisation": "1 人低于 75%",  # 李娜 62.5 %
        "scheduled_hours": "2 人不足",  # 8 h each, in the month and in the quarter
        "adherence": "50.00%",  # 李娜 2 of 2, 王强 0 of 2
        "qa_accuracy": "66.67%",
        "test_call_accuracy": "75.00%",
        "complaints": "成立有责 2 件",
        "kb_timeliness": "0.00%（逾期 1 个工作日）",
        "training_pass_rate": "66.67%",  # 2 passes of 3 sittings
        "chat_first_response": "超时 1 次",  # 40 s
        "chat_close": "超时 1 次",  # 45 s
    }
    assert amounts == {
        "answer_rate": 0, "satisfaction": 0,  # 75 %: below 90 %, a major item (no sum set)
        "chat_satisfaction": 0, "acw": 0,
        "first_handling": 100, "overdue_ticket": 10_000,
        "record_accuracy": 500,
        "utilisation": 13 * 1_000,  # 62.5 %: 12.5 points below 75 %, a started point counts
        "scheduled_hours": 2 * 1_000,
        "adherence": 45 * 1_000,  # 50 %: 45 points below 95 %
        "qa_accuracy": 31 * 100 + 200,  # 30.33 points below 97 %, and one common-sense error
        "test_call_accuracy": 20 * 1_000,
        "complaints": 200 + 2_000,
        "kb_timeliness": 1_000,
        "training_pass_rate": 1_000,  # one first sitting failed; the retake passed
        "chat_first_response": 1_000, "chat_close": 200,
    }
    assert result.total == sum(amounts.values()) == 99_300
    assert [line.evaluation.indicator.code for line in result.major_events] == ["satisfaction", "overdue_ticket"]


def test_the_month_broken_down_by_agent_gives_each_agents_own_figures(whole_december):
    li, wang = whole_december["li"], whole_december["wang"]
    period = indicators.Period.of_month(NOW.date(), NOW)

    def by_agent(code):
        return {g.key: g.figure.shown for g in indicators.breakdown(indicators.BY_CODE[code], period, "agent")}

    with clock.frozen_at(NOW):
        assert by_agent("chat_first_response") == {li.id: "超时 0 次", wang.id: "超时 1 次"}
        assert by_agent("answer_rate") == {li.id: "100.00%", None: "0.00%"}  # the abandoned call had no agent
        assert by_agent("adherence") == {li.id: "100.00%", wang.id: "0.00%"}
        team = indicators.breakdown(indicators.BY_CODE["chat_satisfaction"], period, "team")
        assert {g.name: g.figure.shown for g in team} == {"一班": "100.00%", "（无）": "0.00%"}


def test_a_run_of_days_counts_only_its_days(whole_december):
    # 12-01 … 12-03: calls c0, c1, c2 (all answered); no chats yet; 李娜's QA samples of 12-02 (clean)
    # and 12-03 (a common-sense error); the first test call
    period = indicators.Period.of_days(date(2026, 12, 1), date(2026, 12, 3), NOW)
    assert not period.whole_month and period.title == "2026-12-01 至 2026-12-03"
    with clock.frozen_at(NOW):
        f = {e.indicator.code: e.figure for e in indicators.compute_all(period)}
    assert (f["answer_rate"].numerator, f["answer_rate"].denominator) == (3, 3)
    assert f["chat_first_response"].value is None
    assert f["qa_accuracy"].shown == "50.00%"
    assert f["test_call_accuracy"].shown == "100.00%"  # only the 12-03 call


def test_the_detail_page_breaks_a_figure_down_and_takes_a_run_of_days(client, auth, whole_december):
    auth.login("boss")
    with clock.frozen_at(NOW):
        page = client.get("/reports/indicators/chat_first_response",
                          query_string={"month": "2026-12", "by": "agent"}).get_data(as_text=True)
        ranged = client.get("/reports/", query_string={"from": "2026-12-01", "to": "2026-12-03"}
                            ).get_data(as_text=True)
    table = page[page.index('id="breakdown"'):]
    assert "李娜" in table and "王强" in table and "超时 1 次" in table
    assert "2026-12-01 至 2026-12-03" in ranged
    assert 'href="/reports/indicators/answer_rate?month=2026-12&amp;from=2026-12-01&amp;to=2026-12-03"' in ranged


def test_the_chat_scan_names_the_channels_its_index_covers():
    """ix_contact_chat_started is a partial index over the chat channels; a new channel must be
    added to it (a migration), or the month's conversations would be read off the table instead."""
    from app.models.contacts import CHAT_CHANNELS_SQL
    from telephony_adapter import chats

    assert CHAT_CHANNELS_SQL == "channel IN (" + ", ".join(f"'{c}'" for c in chats.CHANNELS) + ")"


def test_shifts_are_read_once_for_the_three_shift_indicators(whole_december, monkeypatch):
    from app.workforce import attendance

    calls = []
    original = attendance.results
    monkeypatch.setattr(attendance, "results", lambda *a: calls.append(1) or original(*a))
    with clock.frozen_at(NOW):
        indicators.compute_all(indicators.Period.of_month(NOW.date(), NOW))
    assert len(calls) == 1
