"""考核记录: the other records the assessment is made of — 拨测 (test calls against a question's
expected answer), 培训考核 (exam results, retakes), 投诉 (complaints about an agent, by channel and
cause, once checked) and 工单记录抽查 (tickets found recorded wrongly). Each is checked at the
edge and audited."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Ticket, User
from app.models.quality import AgentComplaint, ExamResult, RecordReview, TestCall, TestQuestion
from app.refusals import Refused
from workflows import audit_trail

COMPLAINT_SOURCES = {"internal": "中心自有渠道", "external": "外部渠道"}
# 投诉 deductions (seed 002): by channel, and whether the agent's attitude caused it.
COMPLAINT_COST = {("internal", False): 200, ("internal", True): 1000, ("external", False): 500, ("external", True): 2000}


class RecordRefused(Refused):
    """An assessment record that cannot be kept as entered."""


def _text(value: str | None, what: str, limit: int = 2000, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise RecordRefused(f"请填写{what}")
    if len(value) > limit:
        raise RecordRefused(f"{what}最多 {limit} 个字")
    return value


def _agent(agent_id: int | None) -> User:
    from app.workforce.schedule import scheduled_people

    if agent_id is None or agent_id not in {u.id for u in scheduled_people()}:
        raise RecordRefused("请选择坐席")
    return db.session.get(User, agent_id)


def _audit(user: User, ip: str | None, action: str, summary: str, data: dict) -> None:
    audit_trail.append(audit_trail.Actor.of(user, ip), action, summary=summary, data=data)
    db.session.commit()


def add_question(user: User, question: str, expected: str, ip: str | None) -> TestQuestion:
    row = TestQuestion(question=_text(question, "拨测问题", 300), expected=_text(expected, "标准答案"))
    db.session.add(row)
    db.session.flush()
    _audit(user, ip, "assess.test_question", f"新增拨测题：{row.question[:40]}", {"question_id": row.id})
    return row


def record_test_call(user: User, question_id: int | None, called_at: datetime, agent_id: int | None,
                     correct: bool, note: str, ip: str | None) -> TestCall:
    question = db.session.get(TestQuestion, question_id) if question_id else None
    if question is None or not question.active:
        raise RecordRefused("请选择拨测题")
    agent = _agent(agent_id) if agent_id else None
    if not correct and not (note or "").strip():
        raise RecordRefused("回答不正确时请写明问题")
    row = TestCall(question_id=question.id, called_at=called_at, agent_id=agent.id if agent else None,
                   correct=correct, note=_text(note, "说明", required=False), tester_id=user.id)
    db.session.add(row)
    db.session.flush()
    _audit(user, ip, "assess.test_call", f"拨测：{question.question[:30]}，{'正确' if correct else '错误'}",
           {"test_call_id": row.id, "correct": correct})
    return row


def record_exam(user: User, person_id: int | None, training: str, taken_on: date, attempt: int, score: int,
                ip: str | None) -> ExamResult:
    person = _agent(person_id)
    if attempt not in (1, 2, 3):
        raise RecordRefused("考试次数须为首次、第一次补考或第二次补考")
    if not 0 <= score <= 100:
        raise RecordRefused("成绩须在 0–100 分之间")
    training = _text(training, "培训名称", 100)
    earlier = db.session.scalar(select(ExamResult).where(ExamResult.user_id == person.id,
                                                        ExamResult.training == training,
                                                        ExamResult.attempt == attempt))
    if earlier is not None:
        raise RecordRefused("该次考试的成绩已登记")
    if attempt > 1 and db.session.scalar(select(ExamResult.id).where(
            ExamResult.user_id == person.id, ExamResult.training == training, ExamResult.attempt == attempt - 1,
            ExamResult.score < 80)) is None:
        raise RecordRefused("补考须在上一次考试未通过之后")
    row = ExamResult(user_id=person.id, training=training, taken_on=taken_on, attempt=attempt, score=score,
                     recorded_by=user.id)
    db.session.add(row)
    db.session.flush()
    _audit(user, ip, "assess.exam", f"登记考试成绩：{person.display_name} {training} 第 {attempt} 次 {score} 分",
           {"exam_id": row.id, "score": score, "attempt": attempt})
    return row


def record_complaint(user: User, agent_id: int | None, received_on: date, source: str, attitude: bool,
                     upheld: bool | None, summary: str, ticket_number: str | None, ip: str | None) -> AgentComplaint:
    agent = _agent(agent_id)
    if source not in COMPLAINT_SOURCES:
        raise RecordRefused("请选择投诉渠道")
    ticket_id = None
    if ticket_number and ticket_number.strip():
        ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.number == ticket_number.strip()))
        if ticket_id is None:
            raise RecordRefused("找不到该工单号")
    row = AgentComplaint(agent_id=agent.id, received_on=received_on, source=source, attitude=attitude, upheld=upheld,
                         summary=_text(summary, "投诉内容"), ticket_id=ticket_id, recorded_by=user.id)
    db.session.add(row)
    db.session.flush()
    _audit(user, ip, "assess.complaint", f"登记投诉：{agent.display_name}（{COMPLAINT_SOURCES[source]}"
           f"{'，服务态度' if attitude else ''}）", {"complaint_id": row.id, "upheld": upheld})
    return row


def record_review(user: User, ticket_number: str, reviewed_on: date, faulty: bool, bad_outcome: bool, note: str,
                  ip: str | None) -> RecordReview:
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == (ticket_number or "").strip()))
    if ticket is None:
        raise RecordRefused("找不到该工单号")
    if faulty and not (note or "").strip():
        raise RecordRefused("记录有误时请写明问题")
    row = RecordReview(ticket_id=ticket.id, reviewed_on=reviewed_on, faulty=faulty, bad_outcome=faulty and bad_outcome,
                       note=_text(note, "说明", required=False), reviewer_id=user.id)
    db.session.add(row)
    db.session.flush()
    _audit(user, ip, "assess.record_review", f"工单记录抽查：{ticket.number} {'有误' if faulty else '准确'}",
           {"review_id": row.id, "faulty": faulty, "bad_outcome": row.bad_outcome})
    return row
