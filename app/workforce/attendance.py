"""遵时度 and 工时利用率, measured against the schedule (排班).

- An agent is **signed in** from leaving 签出 until returning to it: the agent state log's periods,
  joined where one ends as the next begins.
- **Adherence** (遵时度) counts two moments per shift: signed in at the shift's start, and still signed in
  at its end, each with the seed's 2-minute tolerance (signed in by start + 2 min; not signed out
  before end − 2 min). Adherence = moments on time / moments due. A shift not begun counts nothing;
  its end counts once it has passed.
- **Utilisation** (工时利用率) = time serving within the shifts / scheduled time of the shifts that
  have ended. Serving is 通话, 保持 and 整理 (the state log) and handling chats (each conversation
  from reaching the agent to its end), counted once where they overlap.
- **Scheduled hours** (排班工时): the shifts starting in the month (≈ 170 h expected) and in its
  quarter (≥ 500 h).

Times are aware datetimes; days and months are the hotline's (its time zone), a night shift belongs
to the day it starts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import AgentStateLog, Contact, Shift
from app.timefmt import local_midnight
from telephony_adapter import chats

TOLERANCE = timedelta(minutes=2)
SERVING_STATES = ("talking", "held", "after_call_work")
MONTH_HOURS = 170.0
QUARTER_HOURS = 500.0
_REACH = timedelta(hours=12)  # how far around a shift a sign-in or sign-out still belongs to it

Period = tuple[datetime, datetime]


def merge(periods: list[Period]) -> list[Period]:
    """Overlapping or touching periods as one."""
    merged: list[Period] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlap(periods: list[Period], start: datetime, end: datetime) -> float:
    """Seconds of `periods` (merged) inside [start, end)."""
    return sum(max(0.0, (min(e, end) - max(s, start)).total_seconds()) for s, e in periods)


def covers(periods: list[Period], moment: datetime) -> bool:
    return any(s <= moment < e for s, e in periods)


def signed_in_periods(user_ids: list[int], start: datetime, end: datetime, now: datetime) -> dict[int, list[Period]]:
    rows = db.session.execute(select(AgentStateLog.user_id, AgentStateLog.started_at, AgentStateLog.ended_at).where(
        AgentStateLog.user_id.in_(user_ids), AgentStateLog.started_at < end,
        or_(AgentStateLog.ended_at.is_(None), AgentStateLog.ended_at > start)))
    found: dict[int, list[Period]] = defaultdict(list)
    for user_id, began, ended in rows:
        found[user_id].append((began, ended or now))
    return {user_id: merge(periods) for user_id, periods in found.items()}


def serving_periods(user_ids: list[int], start: datetime, end: datetime, now: datetime) -> dict[int, list[Period]]:
    found: dict[int, list[Period]] = defaultdict(list)
    for user_id, began, ended in db.session.execute(
            select(AgentStateLog.user_id, AgentStateLog.started_at, AgentStateLog.ended_at).where(
                AgentStateLog.user_id.in_(user_ids), AgentStateLog.state.in_(SERVING_STATES),
                AgentStateLog.started_at < end, or_(AgentStateLog.ended_at.is_(None), AgentStateLog.ended_at > start))):
        found[user_id].append((began, ended or now))
    for user_id, began, ended in db.session.execute(
            select(Contact.agent_id, Contact.offered_at, Contact.ended_at).where(
                Contact.agent_id.in_(user_ids), Contact.channel.in_(chats.CHANNELS), Contact.offered_at.is_not(None),
                Contact.offered_at < end, or_(Contact.ended_at.is_(None), Contact.ended_at > start))):
        found[user_id].append((began, ended or now))
    return {user_id: merge(periods) for user_id, periods in found.items()}


@dataclass
class ShiftResult:
    shift: Shift
    signed_in_at: datetime | None = None
    signed_out_at: datetime | None = None
    in_due: bool = False  # the shift's start (plus tolerance) has passed
    out_due: bool = False  # its end has passed
    in_on_time: bool = False
    out_on_time: bool = False
    serving_seconds: float = 0.0

    @property
    def scheduled_seconds(self) -> float:
        return (self.shift.ends_at - self.shift.starts_at).total_seconds()


def results(shifts: list[Shift], now: datetime) -> list[ShiftResult]:
    if not shifts:
        return []
    user_ids = sorted({s.user_id for s in shifts})
    window = (min(s.starts_at for s in shifts) - _REACH, max(s.ends_at for s in shifts) + _REACH)
    signed_in = signed_in_periods(user_ids, *window, now)
    serving = serving_periods(user_ids, *window, now)
    found = []
    for shift in shifts:
        result = ShiftResult(shift)
        mine = signed_in.get(shift.user_id, [])
        near = [(s, e) for s, e in mine if s < shift.ends_at + _REACH and e > shift.starts_at - _REACH]
        inside = [(s, e) for s, e in near if s < shift.ends_at and e > shift.starts_at]
        if inside:
            result.signed_in_at = inside[0][0]
            last_end = inside[-1][1]
            result.signed_out_at = last_end if last_end < now else None  # still signed in: no sign-out yet
        start_mark, end_mark = shift.starts_at + TOLERANCE, shift.ends_at - TOLERANCE
        result.in_due = now >= start_mark
        result.out_due = now >= shift.ends_at
        result.in_on_time = result.in_due and covers(near, start_mark)
        result.out_on_time = result.out_due and covers(near, end_mark)
        if result.out_due:
            result.serving_seconds = overlap(serving.get(shift.user_id, []), shift.starts_at, shift.ends_at)
        found.append(result)
    return found


@dataclass
class Attendance:
    """An agent's (or a team's) figures over a set of shifts."""

    shifts: int = 0
    scheduled_hours: float = 0.0
    moments_due: int = 0
    moments_on_time: int = 0
    ended_seconds: float = 0.0
    serving_seconds: float = 0.0
    days: list[ShiftResult] = field(default_factory=list)

    def add(self, result: ShiftResult) -> None:
        self.shifts += 1
        self.scheduled_hours += result.scheduled_seconds / 3600
        self.moments_due += result.in_due + result.out_due
        self.moments_on_time += result.in_on_time + result.out_on_time
        if result.out_due:
            self.ended_seconds += result.scheduled_seconds
            self.serving_seconds += result.serving_seconds
        self.days.append(result)

    @property
    def adherence(self) -> float | None:
        return self.moments_on_time / self.moments_due if self.moments_due else None

    @property
    def utilisation(self) -> float | None:
        return self.serving_seconds / self.ended_seconds if self.ended_seconds else None


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first), local_midnight(following)


def quarter_bounds(month: date) -> tuple[datetime, datetime]:
    first = date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)
    following = date(first.year + (first.month == 10), 1 if first.month == 10 else first.month + 3, 1)
    return local_midnight(first), local_midnight(following)


def shifts_between(start: datetime, end: datetime, user_ids: list[int] | None = None) -> list[Shift]:
    query = select(Shift).where(Shift.starts_at >= start, Shift.starts_at < end)
    if user_ids is not None:
        query = query.where(Shift.user_id.in_(user_ids))
    return list(db.session.scalars(query.order_by(Shift.starts_at, Shift.user_id)))


def by_agent(month: date, now: datetime, user_ids: list[int] | None = None) -> dict[int, Attendance]:
    """Each agent's attendance for the month (shifts starting in it)."""
    return aggregate(results(shifts_between(*month_bounds(month), user_ids), now))


def aggregate(shift_results: list[ShiftResult]) -> dict[int, Attendance]:
    found: dict[int, Attendance] = defaultdict(Attendance)
    for result in shift_results:
        found[result.shift.user_id].add(result)
    return dict(found)


def quarter_hours(month: date, user_ids: list[int] | None = None) -> dict[int, float]:
    hours: dict[int, float] = defaultdict(float)
    for shift in shifts_between(*quarter_bounds(month), user_ids):
        hours[shift.user_id] += shift.hours
    return dict(hours)
