"""The service indicators the hotline is assessed by (考核指标, seed 002), computed from the
platform's own records for a period and, where it applies, for some agents (a team, one agent).
Each has its written definition, its target, the figure with its numerator and denominator, and
the rows that make it (明细) — every figure can be traced to its records.

Indicators whose records the platform does not keep yet (QA samples, test calls, exams,
complaints, ticket-record reviews) are listed with that said, never with an invented figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select

from app.chats import indicators as chat_goals
from app.extensions import db
from app.models import Contact, PolicyChange, SlaEvent, Ticket, User
from app.timefmt import local_time
from app.workforce import attendance
from telephony_adapter import chats
from telephony_adapter.events import SURVEY_SCORES

ROW_LIMIT = 2000  # a drill-down longer than this says so and shows the first rows


@dataclass
class Period:
    month: date  # the first day of the month assessed
    start: datetime
    end: datetime
    now: datetime
    agent_ids: list[int] | None = None  # None: everyone

    @classmethod
    def of_month(cls, month: date, now: datetime, agent_ids: list[int] | None = None) -> Period:
        start, end = attendance.month_bounds(month)
        return cls(month.replace(day=1), start, end, now, agent_ids)


@dataclass
class Figure:
    value: float | None  # None: nothing to measure in the period
    shown: str
    met: bool | None
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""


@dataclass
class Detail:
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    more: bool = False


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    target: str
    compute: Callable[[Period], Figure] | None = None
    detail: Callable[[Period], Detail] | None = None
    missing: str = ""  # why it cannot be measured yet

    @property
    def measured(self) -> bool:
        return self.compute is not None


def _pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.2f}%"


def _who(contact_agent: int | None, names: dict[int, str]) -> str:
    return names.get(contact_agent, "—") if contact_agent else "—"


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}


def _scoped(query, period: Period, column):
    return query.where(column.in_(period.agent_ids)) if period.agent_ids is not None else query


# --- calls -------------------------------------------------------------------------------------

def _requests(period: Period):
    """Requests for an agent: phone contacts that joined a queue in the period, except those whose
    caller chose a callback (预约回拨) instead of waiting — they are called back, not lost."""
    query = select(Contact).where(Contact.channel == "phone", Contact.queued_at >= period.start,
                                  Contact.queued_at < period.end,
                                  or_(Contact.hangup_cause.is_(None), Contact.hangup_cause != "callback_requested"))
    return _scoped(query, period, Contact.agent_id)


def _answer_rate(period: Period) -> Figure:
    contacts = db.session.scalars(_requests(period)).all()
    answered = sum(1 for c in contacts if c.answered_at is not None)
    if not contacts:
        return Figure(None, "—", None, 0, 0, "本期没有进入队列的来电")
    return Figure(answered / len(contacts), _pct(answered, len(contacts)), answered / len(contacts) >= 0.80,
                  answered, len(contacts))


def _answer_rate_detail(period: Period) -> Detail:
    contacts = db.session.scalars(_requests(period).order_by(Contact.queued_at).limit(ROW_LIMIT + 1)).all()
    names = _names(c.agent_id for c in contacts)
    detail = Detail(["进入队列", "主叫", "队列", "坐席", "接通", "排队(秒)", "结果"])
    for c in contacts[:ROW_LIMIT]:
        detail.rows.append([local_time(c.queued_at, "%m-%d %H:%M:%S"), c.caller or "—",
                            c.queue.name if c.queue else "—", _who(c.agent_id, names),
                            "是" if c.answered_at else "否", round(c.wait_seconds),
                            "放弃" if c.abandoned else c.hangup_label])
    detail.more = len(contacts) > ROW_LIMIT
    return detail


def _surveyed(period: Period):
    query = select(Contact).where(Contact.channel == "phone", Contact.survey_score.is_not(None),
                                  Contact.started_at >= period.start, Contact.started_at < period.end)
    return _scoped(query, period, Contact.agent_id)


def _satisfaction(period: Period) -> Figure:
    scores = [c.survey_score for c in db.session.scalars(_surveyed(period))]
    if not scores:
        return Figure(None, "—", None, 0, 0, "本期没有满意度评价")
    satisfied = sum(1 for s in scores if s in (1, 2))
    value = satisfied / len(scores)
    return Figure(value, _pct(satisfied, len(scores)), value >= 0.97, satisfied, len(scores))


def _satisfaction_detail(period: Period) -> Detail:
    contacts = db.session.scalars(_surveyed(period).order_by(Contact.started_at).limit(ROW_LIMIT + 1)).all()
    names = _names(c.agent_id for c in contacts)
    detail = Detail(["来电时间", "主叫", "坐席", "评价", "工单"])
    for c in contacts[:ROW_LIMIT]:
        detail.rows.append([local_time(c.started_at, "%m-%d %H:%M"), c.caller or "—", _who(c.agent_id, names),
                            SURVEY_SCORES[c.survey_score][1], c.ticket_id or "—"])
    detail.more = len(contacts) > ROW_LIMIT
    return detail


def _handled(period: Period):
    query = select(Contact).where(Contact.channel == "phone", Contact.answered_at.is_not(None),
                                  Contact.state == "ended", Contact.started_at >= period.start,
                                  Contact.started_at < period.end)
    return _scoped(query, period, Contact.agent_id)


def _acw(period: Period) -> Figure:
    values = [c.acw_seconds for c in db.session.scalars(_handled(period))]
    if not values:
        return Figure(None, "—", None, 0, 0, "本期没有接通的来电")
    mean = sum(values) / len(values)
    return Figure(mean, f"{mean:.1f} 秒", mean < 10, round(sum(values), 1), len(values))


def _acw_detail(period: Period) -> Detail:
    contacts = db.session.scalars(_handled(period).order_by(Contact.started_at).limit(ROW_LIMIT + 1)).all()
    names = _names(c.agent_id for c in contacts)
    detail = Detail(["来电时间", "主叫", "坐席", "通话(秒)", "话后处理(秒)"])
    for c in contacts[:ROW_LIMIT]:
        detail.rows.append([local_time(c.started_at, "%m-%d %H:%M"), c.caller or "—", _who(c.agent_id, names),
                            round(c.talk_seconds), round(c.acw_seconds, 1)])
    detail.more = len(contacts) > ROW_LIMIT
    return detail


# --- chats -------------------------------------------------------------------------------------

def _conversations(period: Period):
    query = select(Contact).where(Contact.channel.in_(chats.CHANNELS), Contact.started_at >= period.start,
                                  Contact.started_at < period.end)
    return _scoped(query, period, Contact.agent_id)


def _chat_satisfaction(period: Period) -> Figure:
    rated = [c.chat_rating for c in db.session.scalars(_conversations(period).where(Contact.chat_rating.is_not(None)))]
    if not rated:
        return Figure(None, "—", None, 0, 0, "本期没有会话评价")
    satisfied = sum(1 for r in rated if r in chat_goals.SATISFIED_RATINGS)
    return Figure(satisfied / len(rated), _pct(satisfied, len(rated)), satisfied / len(rated) >= 0.90,
                  satisfied, len(rated))


def _chat_breaches(measure: str) -> Callable[[Period], Figure]:
    def compute(period: Period) -> Figure:
        rows, _summary = chat_goals.measure(db.session.scalars(_conversations(period)).all(), period.now)
        measured = [r for r in rows if getattr(r, measure) is not None]
        late = sum(1 for r in measured if getattr(r, f"{measure}_late"))
        if not measured:
            return Figure(None, "—", None, 0, 0, "本期没有坐席接待的会话")
        return Figure(late, f"超时 {late} 次", late == 0, late, len(measured))
    return compute


def _chat_detail(period: Period) -> Detail:
    contacts = db.session.scalars(_conversations(period).order_by(Contact.started_at).limit(ROW_LIMIT + 1)).all()
    rows, _summary = chat_goals.measure(contacts[:ROW_LIMIT], period.now)
    names = _names(c.agent_id for c in contacts)
    labels = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}
    detail = Detail(["开始", "渠道", "坐席", "首次回复(秒)", "挂机(秒)", "评价"])
    for r in rows:
        c = r.contact
        detail.rows.append([local_time(c.started_at, "%m-%d %H:%M"), c.channel, _who(c.agent_id, names),
                            "—" if r.first_response is None else round(r.first_response),
                            "—" if r.close is None else round(r.close), labels.get(c.chat_rating, "—")])
    detail.more = len(contacts) > ROW_LIMIT
    return detail


# --- tickets -----------------------------------------------------------------------------------

def _first_handling_due(period: Period):
    return select(Ticket).where(Ticket.first_handling_due_at >= period.start, Ticket.first_handling_due_at < period.end,
                                Ticket.first_handling_due_at <= period.now)


def _first_handling_late(ticket: Ticket) -> bool:
    return ticket.first_handled_at is None or ticket.first_handled_at > ticket.first_handling_due_at


def _first_handling(period: Period) -> Figure:
    due = [t for t in db.session.scalars(_first_handling_due(period)) if t.status != "cancelled"]
    late = sum(1 for t in due if _first_handling_late(t))
    if not due:
        return Figure(None, "—", None, 0, 0, "本期没有到期的初次处理")
    return Figure(late, f"超时 {late} 件", late == 0, late, len(due))


def _first_handling_detail(period: Period) -> Detail:
    tickets = db.session.scalars(_first_handling_due(period).order_by(Ticket.first_handling_due_at)
                                 .limit(ROW_LIMIT + 1)).all()
    detail = Detail(["工单", "标题", "初次处理时限", "初次处理", "结果"])
    for t in tickets[:ROW_LIMIT]:
        if t.status == "cancelled":
            continue
        detail.rows.append([t.number, t.subject, local_time(t.first_handling_due_at, "%m-%d %H:%M"),
                            local_time(t.first_handled_at, "%m-%d %H:%M") or "未处理",
                            "超时" if _first_handling_late(t) else "按时"])
    detail.more = len(tickets) > ROW_LIMIT
    return detail


def _major_events(period: Period):
    return select(SlaEvent, Ticket).join(Ticket, Ticket.id == SlaEvent.ticket_id).where(
        SlaEvent.kind == "major_event", SlaEvent.occurred_at >= period.start, SlaEvent.occurred_at < period.end)


def _overdue(period: Period) -> Figure:
    count = len(db.session.execute(_major_events(period)).all())
    return Figure(count, f"{count} 件", count == 0, count, None)


def _overdue_detail(period: Period) -> Detail:
    detail = Detail(["工单", "标题", "办理时限", "超期五个工作日于"])
    for event, ticket in db.session.execute(_major_events(period).order_by(SlaEvent.occurred_at).limit(ROW_LIMIT)):
        detail.rows.append([ticket.number, ticket.subject, local_time(event.due_at, "%m-%d %H:%M"),
                            local_time(event.occurred_at, "%m-%d %H:%M")])
    return detail


# --- knowledge base ----------------------------------------------------------------------------

def _policy_changes(period: Period):
    return select(PolicyChange).where(PolicyChange.due_at >= period.start, PolicyChange.due_at < period.end,
                                      PolicyChange.due_at <= period.now)


def days_late(change: PolicyChange, now: datetime) -> int:
    """Whole days (started) past the 1-working-day deadline; 0 when entered in time."""
    done = change.completed_at or now
    return max(0, math.ceil((done - change.due_at).total_seconds() / 86400))


def _kb_timeliness(period: Period) -> Figure:
    changes = db.session.scalars(_policy_changes(period)).all()
    if not changes:
        return Figure(None, "—", None, 0, 0, "本期没有到期的政策变更")
    late_days = sum(days_late(c, period.now) for c in changes)
    on_time = sum(1 for c in changes if days_late(c, period.now) == 0)
    return Figure(on_time / len(changes), _pct(on_time, len(changes)) + (f"（逾期 {late_days} 天）" if late_days else ""),
                  late_days == 0, on_time, len(changes))


def _kb_detail(period: Period) -> Detail:
    detail = Detail(["政策变更", "文号", "收到", "录入时限", "录入完成", "逾期(天)"])
    for c in db.session.scalars(_policy_changes(period).order_by(PolicyChange.due_at).limit(ROW_LIMIT)):
        detail.rows.append([c.title, c.document_ref or "—", local_time(c.received_at, "%m-%d %H:%M"),
                            local_time(c.due_at, "%m-%d %H:%M"), local_time(c.completed_at, "%m-%d %H:%M") or "未完成",
                            days_late(c, period.now)])
    return detail


# --- workforce ---------------------------------------------------------------------------------

def _attendance(period: Period) -> dict[int, attendance.Attendance]:
    return attendance.by_agent(period.month, period.now, period.agent_ids)


def _adherence(period: Period) -> Figure:
    figures = _attendance(period).values()
    due = sum(f.moments_due for f in figures)
    on_time = sum(f.moments_on_time for f in figures)
    if not due:
        return Figure(None, "—", None, 0, 0, "本期没有排班")
    return Figure(on_time / due, _pct(on_time, due), on_time / due >= 0.95, on_time, due)


def _utilisation(period: Period) -> Figure:
    figures = _attendance(period)
    below = [agent for agent, f in figures.items() if f.utilisation is not None and f.utilisation < 0.75]
    measured = [f for f in figures.values() if f.utilisation is not None]
    if not measured:
        return Figure(None, "—", None, 0, 0, "本期没有已结束的班次")
    return Figure(len(below), f"{len(below)} 人低于 75%", not below, len(below), len(measured))


def _hours(period: Period) -> Figure:
    figures = _attendance(period)
    quarter = attendance.quarter_hours(period.month, period.agent_ids)
    short = [a for a, f in figures.items()
             if f.scheduled_hours < attendance.MONTH_HOURS and quarter.get(a, 0) < attendance.QUARTER_HOURS]
    if not figures:
        return Figure(None, "—", None, 0, 0, "本期没有排班")
    return Figure(len(short), f"{len(short)} 人不足", not short, len(short), len(figures))


def _attendance_detail(period: Period) -> Detail:
    figures = _attendance(period)
    quarter = attendance.quarter_hours(period.month, period.agent_ids)
    names = _names(figures)
    detail = Detail(["坐席", "班次", "本月排班(时)", "本季排班(时)", "遵时度", "工时利用率"])
    for agent, f in sorted(figures.items(), key=lambda item: names.get(item[0], "")):
        detail.rows.append([names.get(agent, agent), f.shifts, round(f.scheduled_hours, 1), round(quarter.get(agent, 0), 1),
                            "—" if f.adherence is None else f"{f.adherence * 100:.1f}%",
                            "—" if f.utilisation is None else f"{f.utilisation * 100:.1f}%"])
    return detail


NOT_YET = "质检、拨测、培训与投诉记录将在“质检与考核”功能中建立，届时据实计算。"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("answer_rate", "接通率",
              "坐席接通的来电 / 进入人工队列的来电（选择预约回拨的不计入）。",
              "月度 ≥ 80%；连续三个月低于 80% 为重大事件", _answer_rate, _answer_rate_detail),
    Indicator("satisfaction", "满意率",
              "通话后语音满意度评价中“非常满意 + 满意”/ 全部评价（1–4 键）。",
              "月度 ≥ 97%；95–97% 每点扣 1,000 元；90–95% 每点扣 3,000 元；< 90% 重大事件",
              _satisfaction, _satisfaction_detail),
    Indicator("chat_satisfaction", "在线满意率", "会话评价中“满意 + 基本满意”/ 已评价的会话。", "≥ 90%",
              _chat_satisfaction, _chat_detail),
    Indicator("acw", "平均话后处理时长", "已接通并结束的来电，坐席在整理态的平均时长。",
              "< 10 秒；每超 1 秒扣 200 元，封顶 3,000 元", _acw, _acw_detail),
    Indicator("first_handling", "工单初次处理时限",
              "初次处理时限（受理后 1 个工作日）落在本期且已到期的工单中，逾期未处理或处理晚于时限的件数。",
              "每件扣 100 元，封顶 1,000 元", _first_handling, _first_handling_detail),
    Indicator("overdue_ticket", "工单超期", "本期内超过办理时限 5 个工作日仍未办结的工单（重大事件）。",
              "0 件；每件为重大事件（10,000 元）", _overdue, _overdue_detail),
    Indicator("record_accuracy", "工单记录准确率", "记录正确、完整的工单 / 抽查工单。",
              "100%；造成不良后果的每件扣 500 元", missing=NOT_YET),
    Indicator("utilisation", "工时利用率",
              "班次内服务时长（通话、保持、话后整理、在线会话）/ 已结束班次的排班时长，按人计。",
              "每人 ≥ 75%；每人每低 1 个百分点扣 1,000 元", _utilisation, _attendance_detail),
    Indicator("scheduled_hours", "排班工时",
              "每人月排班工时约 170 小时或季度不少于 500 小时；两者都不足的人数。",
              "每缺一人扣 1,000 元", _hours, _attendance_detail),
    Indicator("adherence", "遵时度", "每个班次的签入与签出各计一次（2 分钟容差），按时次数 / 应计次数。",
              "月度 ≥ 95%；每低 1 个百分点扣 1,000 元", _adherence, _attendance_detail),
    Indicator("qa_accuracy", "质检准确率", "质检合格样本 / 抽检样本。", "≥ 97%；每低 1 个百分点扣 100 元",
              missing=NOT_YET),
    Indicator("test_call_accuracy", "业务拨测准确率", "拨测回答正确 / 拨测次数。", "≥ 95%；每低 1 个百分点扣 1,000 元",
              missing=NOT_YET),
    Indicator("complaints", "投诉率", "经核实的坐席服务态度投诉。", "0；每件按渠道与原因扣 200–2,000 元",
              missing=NOT_YET),
    Indicator("kb_timeliness", "知识库录入及时率",
              "政策变更在 1 个工作日内录入知识库：按时录入的变更 / 本期到期的变更。",
              "100%；每份文件每逾期一天扣 1,000 元", _kb_timeliness, _kb_detail),
    Indicator("training_pass_rate", "培训考核通过率", "考试成绩 ≥ 80 分的人次 / 参考人次。",
              "100%；未通过每人次扣 1,000 / 2,000 元", missing=NOT_YET),
    Indicator("chat_first_response", "首次应答回复时长",
              "会话分配给坐席到坐席首次回复；超过 30 秒的次数 / 坐席接待的会话。",
              f"≤ {chat_goals.FIRST_RESPONSE_SECONDS} 秒；每次超时扣 1,000 元", _chat_breaches("first_response"),
              _chat_detail),
    Indicator("chat_close", "人工挂机时长",
              "会话完毕（市民离开或最后一条消息）到坐席结束会话；超过 30 秒的次数 / 已结束的会话。",
              f"≤ {chat_goals.CLOSE_SECONDS} 秒；每次超时扣 200 元", _chat_breaches("close"), _chat_detail),
)

BY_CODE = {indicator.code: indicator for indicator in INDICATORS}


def compute_all(period: Period) -> list[tuple[Indicator, Figure | None]]:
    return [(i, i.compute(period) if i.compute else None) for i in INDICATORS]

