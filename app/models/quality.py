"""质检与考核记录: the samples QA reviews each day — calls, chats and tickets of each agent — with the
score, the agent's appeal and the team lead's decision, and the ones shared as example cases; and
the other records the monthly assessment counts: test calls, exams, complaints, ticket-record checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# The seed's error types (seed 002, 质检准确率): any one makes a sample wrong.
QA_ERRORS: dict[str, str] = {
    "common_sense": "基本常识错误",
    "attitude": "服务态度问题",
    "inaccurate": "回答不准确",
    "wording": "用语不规范",
    "kb_link": "知识点链接错误",
    "ticket_form": "工单填写错误或未按要求填写",
}
QA_KINDS: dict[str, str] = {"call": "通话", "chat": "会话", "ticket": "工单"}
PASS_SCORE = 80  # 培训考核: 80 points pass
QA_STATES: dict[str, str] = {"pending": "待质检", "scored": "已质检", "appealed": "申诉中", "decided": "已裁定"}


class QaSample(db.Model):
    """One sampled call, chat or ticket of one agent. `errors` is a comma-separated list of
    QA_ERRORS codes; a sample with none is correct. After an appeal the team lead either upholds
    the score or overturns it (the sample then counts as correct)."""

    __table_args__ = (UniqueConstraint("kind", "contact_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # the day whose work was sampled
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    errors: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal: Mapped[str] = mapped_column(Text, default="")
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(10))  # upheld, overturned
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    example: Mapped[bool] = mapped_column(Boolean, default=False)  # 案例分享
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agent = relationship("User", foreign_keys=[agent_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    contact = relationship("Contact")
    ticket = relationship("Ticket")

    @property
    def error_codes(self) -> list[str]:
        return [code for code in self.errors.split(",") if code]

    @property
    def error_labels(self) -> list[str]:
        return [QA_ERRORS.get(code, code) for code in self.error_codes]

    @property
    def correct(self) -> bool | None:
        """None until scored; an overturned score makes the sample correct."""
        if self.status == "pending":
            return None
        return self.decision == "overturned" or not self.error_codes


class TestQuestion(db.Model):
    """拨测题: a question a tester asks the hotline, and the answer it should get."""

    __tablename__ = "test_question"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    expected: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TestCall(db.Model):
    """拨测: one test call — the question asked, when, who answered, whether the answer was right."""

    __tablename__ = "test_call"
    __test__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("test_question.id"), index=True)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    correct: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    tester_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    question = relationship("TestQuestion")
    agent = relationship("User", foreign_keys=[agent_id])


class ExamResult(db.Model):
    """培训考核: one person's exam (attempt 1, then retakes 2 and 3); 80 or more passes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    training: Mapped[str] = mapped_column(String(100))  # the training session (e.g. 2026 年 12 月政策培训)
    taken_on: Mapped[date] = mapped_column(Date, index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("user.id"))

    user = relationship("User", foreign_keys=[user_id])

    @property
    def passed(self) -> bool:
        return self.score >= PASS_SCORE


class AgentComplaint(db.Model):
    """投诉: a complaint about an agent's service, its channel (the centre's own, or outside), whether it
    concerns their attitude, and whether it was found valid with the agent responsible (成立有责)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(10))  # internal, external
    attitude: Mapped[bool] = mapped_column(Boolean)
    upheld: Mapped[bool | None] = mapped_column(Boolean)  # None until checked
    summary: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("user.id"))

    agent = relationship("User", foreign_keys=[agent_id])


class RecordReview(db.Model):
    """工单记录准确率: a ticket found recorded wrongly or incompletely, and whether that led to a bad
    outcome (an unsatisfied citizen or late handling) — those cost 500 CNY each."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    reviewed_on: Mapped[date] = mapped_column(Date, index=True)
    faulty: Mapped[bool] = mapped_column(Boolean)
    bad_outcome: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    ticket = relationship("Ticket")
