"""The service indicators the hotline is assessed by (考核指标, seed 002), computed from the
platform's own records for any period (a month, or any run of days) and, where it applies, for
some agents (a team, one agent), or broken down by agent, team, queue, channel or department.

Each indicator names the records it is made of (calls, survey answers, conversations, tickets,
policy changes, shifts), how each is known (`key`, e.g. ``contact:12``) and when it happened. The
indicators over calls, conversations and tickets — millions of rows a month — are counted by the
database (`tally`: one statement per table); the others, a few thousand records at most, are
computed from their rows (`items` and `figure`). A manager's exclusions (月度考核: one record, or a
force majeure day for every indicator) take records out before the figure is computed, and the 明细
shows the records with whether each counted — every figure can be traced to its records.

An indicator without records in the period shows “—” and says why, never an invented figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, true

from app.chats import indicators as chat_goals
from app.extensions import db
from app.models import CallQueue, Contact, Department, PolicyChange, SlaEvent, Team, Ticket, User
from app.models.tickets import CATEGORIES, CHANNELS
from app.reports.tally import Counted, Dimension, Tally, count_all, count_by, counted, listed, literal_time
from app.timefmt import display_zone, local_midnight, local_time
from app.workforce import attendance
from telephony_adapter import chats
from telephony_adapter.events import SURVEY_SCORES

ROW_LIMIT = 2000  # a drill-down longer than this says so and shows the first rows
EVERY = "*"  # the indicator of a force majeure day: it leaves out that day's records everywhere


@dataclass
class Period:
    first: date  # the first day counted
    start: datetime
    end: datetime
    now: datetime
    agent_ids: list[int] | None = None  # None: everyone
    excluded_days: set[date] = field(default_factory=set)
    excluded_items: dict[str, set[str]] = field(default_factory=dict)
    whole_month: bool = True  # a calendar month (what the assessment is made for)
    memo: dict = field(default_factory=dict)  # records read once for several indicators (the shifts)

    @classmethod
    def of_month(cls, month: date, now: datetime, agent_ids: list[int] | None = None) -> Period:
        start, end = attendance.month_bounds(month)
        return cls(month.replace(day=1), start, end, now, agent_ids)

    @classmethod
    def of_days(cls, first: date, last: date, now: datetime, agent_ids: list[int] | None = None) -> Period:
        """From the first day to the last, both counted (local days)."""
        whole = first.day == 1 and (last + timedelta(days=1)).day == 1 and last - first < timedelta(days=31)
        return cls(first, local_midnight(first), local_midnight(last + timedelta(days=1)), now, agent_ids,
                   whole_month=whole)

    @property
    def month(self) -> date:
        """The month the period starts in: its assessment marks and quarter."""
        return self.first.replace(day=1)

    @property
    def last(self) -> date:
        return (self.end - timedelta(seconds=1)).astimezone(display_zone()).date()

    @property
    def months(self) -> list[date]:
        found, current = [], self.month
        while current <= self.last:
            found.append(current)
            current = (current + timedelta(days=32)).replace(day=1)
        return found

    @property
    def title(self) -> str:
        if self.whole_month:
            return f"{self.first:%Y 年 %m 月}"
        return f"{self.first:%Y-%m-%d} 至 {self.last:%Y-%m-%d}"

    def keeps(self, code: str, key: str, when: datetime | None) -> bool:
        if key in self.excluded_items.get(code, ()):
            return False
        return when is None or when.astimezone(display_zone()).date() not in self.excluded_days


@dataclass
class Figure:
    value: float | None  # None: nothing to measure in the period
    shown: str
    met: bool | None
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    target: str
    items: Callable[[Period], list] | None = None
    key: Callable[[Any], str] | None = None
    when: Callable[[Any], datetime | None] | None = None
    figure: Callable[[list, Period], Figure] | None = None
    columns: tuple[str, ...] = ()
    row: Callable[[Any, dict[int, str], Period], list] | None = None
    agent: Callable[[Any], int | None] | None = lambda item: getattr(item, "agent_id", None)
    tally: Tally | None = None  # counted by the database; `items` then lists the rows for the 明细
    missing: str = ""  # why it cannot be measured yet

    @property
    def measured(self) -> bool:
        return self.items is not None

    @property
    def dimensions(self) -> dict[str, Dimension]:
        """What the figure can be broken down by."""
        if self.tally is not None:
            return self.tally.dimensions
        return {"agent": AGENT} if self.agent is not None else {}


@dataclass
class Evaluation:
    indicator: Indicator
    figure: Figure | None
    kept: list = field(default_factory=list)  # the records counted (indicators computed from their rows)
    left_out: int = 0  # records a manager's exclusion took out


def _from_rows(indicator: Indicator, items: list, period: Period) -> Evaluation:
    kept = [item for item in items if period.keeps(indicator.code, indicator.key(item), indicator.when(item))]
    return Evaluation(indicator, indicator.figure(kept, period), kept, len(items) - len(kept))


def _from_tally(indicator: Indicator, found: Counted, period: Period) -> Evaluation:
    return Evaluation(indicator, indicator.tally.figure(found.sums, period), left_out=found.left_out)


def evaluate(indicator: Indicator, period: Period) -> Evaluation:
    if not indicator.measured:
        return Evaluation(indicator, None)
    if indicator.tally is not None:
        return _from_tally(indicator, count_all({indicator.code: indicator.tally}, period)[indicator.code], period)
    return _from_rows(indicator, indicator.items(period), period)


def compute_all(period: Period) -> list[Evaluation]:
    tallied = count_all({i.code: i.tally for i in INDICATORS if i.tally is not None}, period)
    return [_from_tally(i, tallied[i.code], period) if i.code in tallied else evaluate(i, period) for i in INDICATORS]


@dataclass
class Group:
    key: Any
    name: str
    figure: Figure
    left_out: int


def breakdown(indicator: Indicator, period: Period, dimension: str) -> list[Group]:
    """The indicator's figure for each agent, team, queue, channel or department, largest first."""
    found = indicator.dimensions.get(dimension)
    if found is None:
        return []
    if indicator.tally is not None:
        groups = [(key, _from_tally(indicator, counted_, period))
                  for key, counted_ in count_by(indicator.code, indicator.tally, period, dimension)]
    else:
        by_key: dict[Any, list] = {}
        for item in indicator.items(period):
            by_key.setdefault(indicator.agent(item), []).append(item)
        groups = [(key, _from_rows(indicator, items, period)) for key, items in by_key.items()]
    names = found.names({key for key, _e in groups if key is not None}) if found.names else {}
    rows = [Group(key, names.get(key, key) if key is not None else "（无）", e.figure, e.left_out)
            for key, e in groups if e.figure is not None]
    return sorted(rows, key=lambda g: (g.key is None, -(g.figure.denominator or 0), str(g.name)))


@dataclass
class DetailRow:
    key: str
    cells: list
    counted: bool


@dataclass
class Detail:
    columns: tuple[str, ...]
    rows: list[DetailRow]
    more: bool


def detail(indicator: Indicator, period: Period, limit: int = ROW_LIMIT) -> Detail:
    """The records behind the figure (the first `limit` of them), each marked counted or left out."""
    if indicator.tally is not None:
        items = indicator.items(period, limit + 1)
    else:
        items = indicator.items(period)
    shown = items[:limit]
    names = _names(indicator.agent(item) for item in shown) if indicator.agent else {}
    rows = [DetailRow(indicator.key(item), indicator.row(item, names, period),
                      period.keeps(indicator.code, indicator.key(item), indicator.when(item))) for item in shown]
    return Detail(indicator.columns, rows, len(items) > limit)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.2f}%"


def _names(ids) -> dict[int, str]:
    return _agent_names({i for i in ids if i})


def _scoped(query, period: Period, column):
    return query.where(column.in_(period.agent_ids)) if period.agent_ids is not None else query


def _contact_key(contact: Contact) -> str:
    return f"contact:{contact.id}"


def _nothing(note: str) -> Figure:
    return Figure(None, "—", None, 0, 0, note)


def _rate(part: float, whole: float, goal: float, empty: str) -> Figure:
    part, whole = int(part), int(whole)
    if not whole:
        return _nothing(empty)
    return Figure(part / whole, _pct(part, whole), part / whole >= goal, part, whole)


def _breaches(late: int, whole: int, unit: str, empty: str) -> Figure:
    if not whole:
        return _nothing(empty)
    return Figure(late, f"超时 {late} {unit}", late == 0, late, whole)


# --- breakdowns ---------------------------------------------------------------------------------

def _lookup(model, label) -> Callable[[set], dict]:
    def names(ids: set) -> dict:
        return dict(db.session.execute(select(model.id, label).where(model.id.in_(ids))).all()) if ids else {}
    return names


def _labels(table: dict[str, str]) -> Callable[[set], dict]:
    return lambda keys: {k: table.get(k, k) for k in keys}


_agent_names = _lookup(User, User.display_name)
AGENT = Dimension("坐席", None, _agent_names)
_CONTACT_DIMENSIONS = {
    "agent": Dimension("坐席", Contact.agent_id, _agent_names),
    "team": Dimension("班组", User.team_id, _lookup(Team, Team.name), join=(User, User.id == Contact.agent_id)),
    "queue": Dimension("队列", Contact.queue_id, _lookup(CallQueue, CallQueue.name)),
    "channel": Dimension("渠道", Contact.channel, _labels(CHANNELS)),
}
_TICKET_DIMENSIONS = {
    "department": Dimension("承办部门", Ticket.department_id, _lookup(Department, Department.name)),
    "channel": Dimension("渠道", Ticket.channel, _labels(CHANNELS)),
    "category": Dimension("类别", Ticket.category, _labels(CATEGORIES)),
}
DIMENSIONS = {code: d.label for code, d in (_CONTACT_DIMENSIONS | _TICKET_DIMENSIONS).items()}  # for the tabs


# --- calls and conversations (counted by the database) ------------------------------------------

_IVR_SLACK = timedelta(days=1)  # a call joins its queue within a day of starting (the voice menu times out)


def _phone_scan(period: Period):
    """Every call indicator's rows lie in this range of the indexed start time: one pass reads them all."""
    return and_(Contact.channel == "phone", Contact.started_at >= period.start - _IVR_SLACK,
                Contact.started_at < period.end)


def _chat_scan(period: Period):
    """The conversations (read off their own covering index, ix_contact_chat_started, on PostgreSQL)."""
    return and_(Contact.channel.in_(chats.CHANNELS), Contact.started_at >= period.start,
                Contact.started_at < period.end)


def _started_in(period: Period):
    # the scans already end the range at the period's end
    return Contact.started_at >= period.start


def _contact_tally(scan, when, rows, sums, figure) -> Tally:
    # listed in the order of the indexed start time: the 明细's first rows come without sorting a month
    return Tally(Contact, "contact", when, scan, rows, sums, figure, _CONTACT_DIMENSIONS, Contact.agent_id,
                 order=Contact.started_at)


def _requests(period: Period):
    """Requests for an agent: phone contacts that joined a queue in the period, except those whose
    caller chose a callback (预约回拨) instead of waiting — they are called back, not lost."""
    return and_(Contact.queued_at >= period.start, Contact.queued_at < period.end,
                Contact.hangup_cause.is_distinct_from("callback_requested"))


def _answer_figure(sums: dict, period: Period) -> Figure:
    return _rate(sums["answered"], sums["n"], 0.80, "本期没有进入队列的来电")


def _call_row(c: Contact, names: dict, period: Period) -> list:
    return [local_time(c.queued_at, "%m-%d %H:%M:%S"), c.caller or "—", c.queue.name if c.queue else "—",
            names.get(c.agent_id, "—"), "是" if c.answered_at else "否", round(c.wait_seconds),
            "放弃" if c.abandoned else c.hangup_label]


def _surveyed(period: Period):
    return and_(Contact.survey_score.is_not(None), _started_in(period))


def _satisfaction_figure(sums: dict, period: Period) -> Figure:
    return _rate(sums["satisfied"], sums["n"], 0.97, "本期没有满意度评价")


def _survey_row(c: Contact, names: dict, period: Period) -> list:
    return [local_time(c.started_at, "%m-%d %H:%M"), c.caller or "—", names.get(c.agent_id, "—"),
            SURVEY_SCORES[c.survey_score][1], c.ticket_id or "—"]


def _handled(period: Period):
    return and_(Contact.answered_at.is_not(None), Contact.state == "ended", _started_in(period))


def _acw_figure(sums: dict, period: Period) -> Figure:
    if not sums["n"]:
        return _nothing("本期没有接通的来电")
    mean = sums["acw"] / sums["n"]
    return Figure(mean, f"{mean:.1f} 秒", mean < 10, round(sums["acw"], 1), int(sums["n"]))


def _acw_row(c: Contact, names: dict, period: Period) -> list:
    return [local_time(c.started_at, "%m-%d %H:%M"), c.caller or "—", names.get(c.agent_id, "—"),
            round(c.talk_seconds), round(c.acw_seconds, 1)]


def _rated(period: Period):
    return Contact.chat_rating.is_not(None)


def _chat_satisfied(period: Period) -> dict:
    return {"satisfied": counted(Contact.chat_rating.in_(chat_goals.SATISFIED_RATINGS))}


def _chat_satisfaction_figure(sums: dict, period: Period) -> Figure:
    return _rate(sums["satisfied"], sums["n"], 0.90, "本期没有会话评价")


def _first_response_sums(period: Period) -> dict:
    measured, late = chat_goals.first_response_late_sql(literal_time(period.now))
    return {"measured": counted(measured), "late": counted(late)}


def _close_sums(period: Period) -> dict:
    measured, late = chat_goals.close_late_sql()
    return {"measured": counted(measured), "late": counted(late)}


def _chat_breaches(sums: dict, period: Period) -> Figure:
    return _breaches(int(sums["late"]), int(sums["measured"]), "次", "本期没有坐席接待的会话")




def _chat_row(c: Contact, names: dict, period: Period) -> list:
    [measured], _summary = chat_goals.measure([c], period.now)
    return [local_time(c.started_at, "%m-%d %H:%M"), c.channel, names.get(c.agent_id, "—"),
            "—" if measured.first_response is None else round(measured.first_response),
            "—" if measured.close is None else round(measured.close), chats.RATING_LABELS.get(c.chat_rating, "—")]


# --- tickets -----------------------------------------------------------------------------------

def _first_handling_scan(period: Period):
    return and_(Ticket.first_handling_due_at >= period.start, Ticket.first_handling_due_at < period.end,
                Ticket.first_handling_due_at <= literal_time(period.now))


def _first_handling_late(ticket: Ticket) -> bool:
    return ticket.first_handled_at is None or ticket.first_handled_at > ticket.first_handling_due_at


def _first_handling_figure(sums: dict, period: Period) -> Figure:
    return _breaches(int(sums["late"]), int(sums["n"]), "件", "本期没有到期的初次处理")


FIRST_HANDLING = Tally(
    Ticket, "ticket", Ticket.first_handling_due_at, _first_handling_scan, lambda period: Ticket.status != "cancelled",
    lambda period: {"late": counted(or_(Ticket.first_handled_at.is_(None),
                                        Ticket.first_handled_at > Ticket.first_handling_due_at))},
    _first_handling_figure, _TICKET_DIMENSIONS)


def _first_handling_row(t: Ticket, names: dict, period: Period) -> list:
    return [t.number, t.subject, local_time(t.first_handling_due_at, "%m-%d %H:%M"),
            local_time(t.first_handled_at, "%m-%d %H:%M") or "未处理", "超时" if _first_handling_late(t) else "按时"]


def _major_events(period: Period) -> list[tuple[SlaEvent, Ticket]]:
    return list(db.session.execute(select(SlaEvent, Ticket).join(Ticket, Ticket.id == SlaEvent.ticket_id).where(
        SlaEvent.kind == "major_event", SlaEvent.occurred_at >= period.start, SlaEvent.occurred_at < period.end)
        .order_by(SlaEvent.occurred_at)).tuples())


def _overdue_figure(kept: list, period: Period) -> Figure:
    return Figure(len(kept), f"{len(kept)} 件", not kept, len(kept), None)


def _overdue_row(pair, names: dict, period: Period) -> list:
    event, ticket = pair
    return [ticket.number, ticket.subject, local_time(event.due_at, "%m-%d %H:%M"),
            local_time(event.occurred_at, "%m-%d %H:%M")]


# --- knowledge base ----------------------------------------------------------------------------

def _policy_changes(period: Period) -> list[PolicyChange]:
    return list(db.session.scalars(select(PolicyChange).where(
        PolicyChange.due_at >= period.start, PolicyChange.due_at < period.end, PolicyChange.due_at <= period.now)
        .order_by(PolicyChange.due_at)))


def days_late(change: PolicyChange, now: datetime) -> int:
    """Working days late (一个工作日 each, a started one counting): 0 when entered in time."""
    from workflows.working_days import is_working_day

    done = change.completed_at or now
    if done <= change.due_at:
        return 0
    zone = display_zone()
    due_day, done_day = change.due_at.astimezone(zone).date(), done.astimezone(zone).date()
    working = sum(1 for n in range(1, (done_day - due_day).days + 1) if is_working_day(due_day + timedelta(days=n)))
    return max(1, working)


def _kb_figure(kept: list[PolicyChange], period: Period) -> Figure:
    if not kept:
        return _nothing("本期没有到期的政策变更")
    late = sum(days_late(c, period.now) for c in kept)
    on_time = sum(1 for c in kept if days_late(c, period.now) == 0)
    return Figure(on_time / len(kept), _pct(on_time, len(kept)) + (f"（逾期 {late} 个工作日）" if late else ""),
                  late == 0, on_time, len(kept))


def _kb_row(c: PolicyChange, names: dict, period: Period) -> list:
    return [c.title, c.document_ref or "—", local_time(c.received_at, "%m-%d %H:%M"),
            local_time(c.due_at, "%m-%d %H:%M"), local_time(c.completed_at, "%m-%d %H:%M") or "未完成",
            days_late(c, period.now)]


# --- workforce ---------------------------------------------------------------------------------

def _shifts(period: Period) -> list[attendance.ShiftResult]:
    if "shifts" not in period.memo:  # three indicators read the same shifts
        period.memo["shifts"] = attendance.results(attendance.shifts_between(period.start, period.end, period.agent_ids),
                                                   period.now)
    return period.memo["shifts"]


def _adherence_figure(kept: list, period: Period) -> Figure:
    figures = attendance.aggregate(kept).values()
    return _rate(sum(f.moments_on_time for f in figures), sum(f.moments_due for f in figures), 0.95, "本期没有排班")


def below_utilisation(kept: list) -> dict[int, float]:
    """Agents under 75 %, with their utilisation."""
    return {agent: f.utilisation for agent, f in attendance.aggregate(kept).items()
            if f.utilisation is not None and f.utilisation < 0.75}


def _utilisation_figure(kept: list, period: Period) -> Figure:
    measured = [f for f in attendance.aggregate(kept).values() if f.utilisation is not None]
    if not measured:
        return _nothing("本期没有已结束的班次")
    below = below_utilisation(kept)
    return Figure(len(below), f"{len(below)} 人低于 75%", not below, len(below), len(measured))


def short_of_hours(kept: list, period: Period) -> list[int]:
    """Agents short of both ≈ 170 h in the month and 500 h in the quarter."""
    quarter = attendance.quarter_hours(period.month, period.agent_ids)
    return [agent for agent, f in attendance.aggregate(kept).items()
            if f.scheduled_hours < attendance.MONTH_HOURS and quarter.get(agent, 0) < attendance.QUARTER_HOURS]


def _hours_figure(kept: list, period: Period) -> Figure:
    agents = attendance.aggregate(kept)
    if not agents:
        return _nothing("本期没有排班")
    short = short_of_hours(kept, period)
    return Figure(len(short), f"{len(short)} 人不足", not short, len(short), len(agents))


def _shift_row(r: attendance.ShiftResult, names: dict, period: Period) -> list:
    mark = {True: "按时", False: "否"}
    return [names.get(r.shift.user_id, "—"), local_time(r.shift.starts_at, "%m-%d %H:%M"),
            local_time(r.shift.ends_at, "%m-%d %H:%M"), round(r.scheduled_seconds / 3600, 1),
            mark[r.in_on_time] if r.in_due else "—", mark[r.out_on_time] if r.out_due else "—",
            round(r.serving_seconds / 3600, 2) if r.out_due else "—"]


def _shift_key(r: attendance.ShiftResult) -> str:
    return f"shift:{r.shift.id}"


def _qa_samples(period: Period) -> list:
    from app.models.quality import QaSample

    first, following = _local_bounds_dates(period)
    query = select(QaSample).where(QaSample.day >= first, QaSample.day < following, QaSample.status != "pending")
    return list(db.session.scalars(_scoped(query, period, QaSample.agent_id).order_by(QaSample.day, QaSample.id)))


def _qa_figure(kept: list, period: Period) -> Figure:
    return _rate(sum(1 for s in kept if s.correct), len(kept), 0.97, "本期没有已质检的样本")


def _qa_row(sample, names: dict, period: Period) -> list:
    from app.models.quality import QA_ERRORS, QA_KINDS

    return [sample.day.isoformat(), names.get(sample.agent_id, "—"), QA_KINDS[sample.kind],
            "、".join(QA_ERRORS[e] for e in sample.error_codes) or "无差错",
            {"upheld": "维持", "overturned": "撤销差错"}.get(sample.decision or "", "—")]


# --- assessment records (拨测, 培训考核, 投诉, 工单记录抽查) ----------------------------------------

def _local_bounds_dates(period: Period) -> tuple[date, date]:
    return period.first, period.last + timedelta(days=1)


def _test_calls(period: Period) -> list:
    from app.models.quality import TestCall

    query = select(TestCall).where(TestCall.called_at >= period.start, TestCall.called_at < period.end)
    return list(db.session.scalars(_scoped(query, period, TestCall.agent_id).order_by(TestCall.called_at, TestCall.id)))


def _test_call_figure(kept: list, period: Period) -> Figure:
    return _rate(sum(1 for c in kept if c.correct), len(kept), 0.95, "本期没有拨测")


def _test_call_row(call, names: dict, period: Period) -> list:
    return [local_time(call.called_at, "%m-%d %H:%M"), call.question.question, names.get(call.agent_id, "—"),
            "正确" if call.correct else "错误", call.note]


def _exams(period: Period) -> list:
    from app.models.quality import ExamResult

    first, following = _local_bounds_dates(period)
    query = select(ExamResult).where(ExamResult.taken_on >= first, ExamResult.taken_on < following)
    return list(db.session.scalars(_scoped(query, period, ExamResult.user_id).order_by(ExamResult.taken_on,
                                                                                        ExamResult.id)))


def _exam_figure(kept: list, period: Period) -> Figure:
    return _rate(sum(1 for e in kept if e.passed), len(kept), 1.0, "本期没有考试")


def _exam_row(exam, names: dict, period: Period) -> list:
    return [exam.taken_on.isoformat(), names.get(exam.user_id, "—"), exam.training,
            {1: "首次", 2: "第一次补考", 3: "第二次补考"}[exam.attempt], exam.score, "通过" if exam.passed else "未通过"]


def _complaints(period: Period) -> list:
    from app.models.quality import AgentComplaint

    first, following = _local_bounds_dates(period)
    query = select(AgentComplaint).where(AgentComplaint.received_on >= first, AgentComplaint.received_on < following)
    return list(db.session.scalars(_scoped(query, period, AgentComplaint.agent_id)
                                   .order_by(AgentComplaint.received_on, AgentComplaint.id)))


def _complaint_figure(kept: list, period: Period) -> Figure:
    upheld = sum(1 for c in kept if c.upheld)
    if not kept:
        return Figure(0, "0 件", True, 0, 0, "本期没有投诉")
    return Figure(upheld, f"成立有责 {upheld} 件", upheld == 0, upheld, len(kept))


def _complaint_row(complaint, names: dict, period: Period) -> list:
    from app.quality.records import COMPLAINT_SOURCES

    return [complaint.received_on.isoformat(), names.get(complaint.agent_id, "—"), COMPLAINT_SOURCES[complaint.source],
            "是" if complaint.attitude else "否",
            {None: "待核实", True: "成立有责", False: "不成立"}[complaint.upheld], complaint.summary]


def _reviews(period: Period) -> list:
    from app.models.quality import RecordReview

    first, following = _local_bounds_dates(period)
    return list(db.session.scalars(select(RecordReview).where(RecordReview.reviewed_on >= first,
                                                              RecordReview.reviewed_on < following)
                                   .order_by(RecordReview.reviewed_on, RecordReview.id)))


def _review_figure(kept: list, period: Period) -> Figure:
    return _rate(sum(1 for r in kept if not r.faulty), len(kept), 1.0, "本期没有工单记录抽查")


def _review_row(review, names: dict, period: Period) -> list:
    return [review.reviewed_on.isoformat(), review.ticket.number, "记录有误" if review.faulty else "准确",
            "是" if review.bad_outcome else "—", review.note]


_CALL_COLUMNS = ("进入队列", "主叫", "队列", "坐席", "接通", "排队(秒)", "结果")
_CHAT_COLUMNS = ("开始", "渠道", "坐席", "首次回复(秒)", "挂机(秒)", "评价")
_SHIFT_COLUMNS = ("坐席", "上班", "下班", "排班(时)", "签入", "签出", "服务(时)")


def _contacts(scan, rows, sums, figure, columns, row, when=Contact.started_at) -> dict:
    tally = _contact_tally(scan, when, rows, sums, figure)
    return {"tally": tally, "items": lambda period, limit=ROW_LIMIT: listed(tally, period, limit),
            "key": _contact_key, "when": lambda c: getattr(c, when.key), "columns": columns, "row": row}


def _shift_based(figure) -> dict:
    return {"items": _shifts, "key": _shift_key, "when": lambda r: r.shift.starts_at, "figure": figure,
            "columns": _SHIFT_COLUMNS, "row": _shift_row, "agent": lambda r: r.shift.user_id}


INDICATORS: tuple[Indicator, ...] = (
    Indicator("answer_rate", "接通率",
              "坐席接通的来电 / 进入人工队列的来电（选择预约回拨的不计入）。",
              "月度 ≥ 80%；连续三个月低于 80% 为重大事件",
              **_contacts(_phone_scan, _requests,
                         lambda p: {"answered": counted(Contact.answered_at.is_not(None))}, _answer_figure,
                         _CALL_COLUMNS, _call_row, when=Contact.queued_at)),
    Indicator("satisfaction", "满意率",
              "通话后语音满意度评价中“非常满意 + 满意”/ 全部评价（1–4 键）。",
              "月度 ≥ 97%；95–97% 每低 1 点扣 1,000 元；低于 95% 的部分每点扣 3,000 元；< 90% 重大事件",
              **_contacts(_phone_scan, _surveyed, lambda p: {"satisfied": counted(Contact.survey_score.in_((1, 2)))},
                         _satisfaction_figure, ("来电时间", "主叫", "坐席", "评价", "工单"), _survey_row)),
    Indicator("chat_satisfaction", "在线满意率", "会话评价中“满意 + 基本满意”/ 已评价的会话。", "≥ 90%",
              **_contacts(_chat_scan, _rated, _chat_satisfied, _chat_satisfaction_figure, _CHAT_COLUMNS, _chat_row)),
    Indicator("acw", "平均话后处理时长", "已接通并结束的来电，坐席在整理态的平均时长。",
              "< 10 秒；每超 1 秒扣 200 元，封顶 3,000 元",
              **_contacts(_phone_scan, _handled, lambda p: {"acw": Contact.acw_seconds}, _acw_figure,
                         ("来电时间", "主叫", "坐席", "通话(秒)", "话后处理(秒)"), _acw_row)),
    Indicator("first_handling", "工单初次处理时限",
              "初次处理时限（受理后 1 个工作日）落在本期且已到期的工单中，逾期未处理或处理晚于时限的件数。",
              "每件扣 100 元，封顶 1,000 元", tally=FIRST_HANDLING,
              items=lambda period, limit=ROW_LIMIT: listed(FIRST_HANDLING, period, limit),
              key=lambda t: f"ticket:{t.id}", when=lambda t: t.first_handling_due_at,
              columns=("工单", "标题", "初次处理时限", "初次处理", "结果"), row=_first_handling_row, agent=None),
    Indicator("overdue_ticket", "工单超期", "本期内超过办理时限 5 个工作日仍未办结的工单（重大事件）。",
              "0 件；每件为重大事件（10,000 元）", items=_major_events, key=lambda pair: f"ticket:{pair[1].id}",
              when=lambda pair: pair[0].occurred_at, figure=_overdue_figure,
              columns=("工单", "标题", "办理时限", "超期五个工作日于"), row=_overdue_row, agent=None),
    Indicator("record_accuracy", "工单记录准确率", "抽查中记录正确、完整的工单 / 抽查的工单。",
              "100%；因记录不准确或缺失造成处理不满意或不及时的，每件扣 500 元", items=_reviews,
              key=lambda r: f"review:{r.id}", when=lambda r: local_midnight(r.reviewed_on), figure=_review_figure,
              columns=("日期", "工单", "结论", "不良后果", "说明"), row=_review_row, agent=None),
    Indicator("utilisation", "工时利用率",
              "班次内服务时长（通话、保持、话后整理、在线会话）/ 已结束班次的排班时长，按人计。",
              "每人 ≥ 75%；每人每低 1 个百分点扣 1,000 元", **_shift_based(_utilisation_figure)),
    Indicator("scheduled_hours", "排班工时",
              "每人月排班工时约 170 小时或季度不少于 500 小时；两者都不足的人数。",
              "每缺一人扣 1,000 元", **_shift_based(_hours_figure)),
    Indicator("adherence", "遵时度", "每个班次的签入与签出各计一次（2 分钟容差），按时次数 / 应计次数。",
              "月度 ≥ 95%；每低 1 个百分点扣 1,000 元", **_shift_based(_adherence_figure)),
    Indicator("qa_accuracy", "质检准确率",
              "无差错的质检样本 / 已质检样本（每日按坐席、渠道分层抽样；申诉后撤销差错的按无差错计）。",
              "≥ 97%；每低 1 个百分点扣 100 元；另每个基本常识错误扣 200 元、每个工单填写错误扣 100 元",
              items=_qa_samples, key=lambda s: f"qa:{s.id}", when=lambda s: local_midnight(s.day),
              figure=_qa_figure, columns=("日期", "坐席", "类型", "差错", "申诉裁定"), row=_qa_row),
    Indicator("test_call_accuracy", "业务拨测准确率", "拨测回答正确 / 拨测次数。", "≥ 95%；每低 1 个百分点扣 1,000 元",
              items=_test_calls, key=lambda c: f"test_call:{c.id}", when=lambda c: c.called_at,
              figure=_test_call_figure, columns=("时间", "问题", "接听坐席", "结果", "说明"), row=_test_call_row),
    Indicator("complaints", "投诉率", "坐席投诉成立有责数 / 投诉总数（服务态度投诉成立有责数应为 0）。",
              "中心自有渠道：非服务态度 200 元、服务态度 1,000 元；外部渠道：非服务态度 500 元、服务态度 2,000 元（每件）",
              items=_complaints, key=lambda c: f"complaint:{c.id}", when=lambda c: local_midnight(c.received_on),
              figure=_complaint_figure, columns=("日期", "坐席", "渠道", "服务态度", "核实", "内容"),
              row=_complaint_row),
    Indicator("kb_timeliness", "知识库录入及时率",
              "政策变更在 1 个工作日内录入知识库：按时录入的变更 / 本期到期的变更。",
              "100%；每份文件每逾期一天扣 1,000 元", items=_policy_changes, key=lambda c: f"policy:{c.id}",
              when=lambda c: c.due_at, figure=_kb_figure,
              columns=("政策变更", "文号", "收到", "录入时限", "录入完成", "逾期(工作日)"), row=_kb_row,
              agent=None),
    Indicator("training_pass_rate", "培训考核通过率", "考试成绩 ≥ 80 分的人次 / 参考人次。",
              "100%；首次未通过每人扣 1,000 元，第一次补考未通过每人扣 2,000 元，第二次补考未通过须解除劳动合同或更换坐席",
              items=_exams, key=lambda e: f"exam:{e.id}", when=lambda e: local_midnight(e.taken_on),
              figure=_exam_figure, columns=("日期", "人员", "培训", "次数", "成绩", "结果"), row=_exam_row,
              agent=lambda e: e.user_id),
    Indicator("chat_first_response", "首次应答回复时长",
              "会话分配给坐席到坐席首次回复；超过 30 秒的次数 / 坐席接待的会话。",
              f"≤ {chat_goals.FIRST_RESPONSE_SECONDS} 秒；每次超时扣 1,000 元",
              **_contacts(_chat_scan, lambda p: true(), _first_response_sums, _chat_breaches, _CHAT_COLUMNS, _chat_row)),
    Indicator("chat_close", "人工挂机时长",
              "会话完毕（市民离开或最后一条消息）到坐席结束会话；超过 30 秒的次数 / 已结束的会话。",
              f"≤ {chat_goals.CLOSE_SECONDS} 秒；每次超时扣 200 元",
              **_contacts(_chat_scan, lambda p: true(), _close_sums, _chat_breaches, _CHAT_COLUMNS, _chat_row)),
)

BY_CODE = {indicator.code: indicator for indicator in INDICATORS}

