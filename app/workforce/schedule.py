"""排班: shifts per agent, edited in a week grid or imported from .xlsx (账号, 日期, 上班, 下班, 班次).
A shift whose end is not after its start ends the next day (a night shift). One agent's shifts never
overlap; an import is checked whole and written in one transaction, or not at all; importing the
same sheet again changes nothing. Every change is audited."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO

from openpyxl import Workbook
from sqlalchemy import select

from app import spreadsheets
from app.extensions import db
from app.models import Shift, User, UserRole
from app.refusals import Refused
from app.timefmt import display_zone
from workflows import audit_trail, clock

COLUMNS = {"账号": "username", "日期": "day", "上班": "start", "下班": "end", "班次": "label"}
REQUIRED = ("账号", "日期", "上班", "下班")
MAX_ROWS = 20_000
MAX_HOURS = 16  # a longer "shift" is a typing mistake
SCHEDULED_ROLES = ("agent", "team_lead")


class ShiftRefused(Refused):
    """A shift that cannot be scheduled as asked."""


def shift_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The shift's start and end (aware, the hotline's zone); an end not after the start is the next day."""
    zone = display_zone()
    begins = datetime.combine(day, start, tzinfo=zone)
    ends = datetime.combine(day + timedelta(days=1) if end <= start else day, end, tzinfo=zone)
    return begins, ends


def parse_time(text: str) -> time | None:
    text = text.strip().replace("：", ":")
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    return None


def _check(user_id: int, begins: datetime, ends: datetime, ignore: int | None = None) -> None:
    if (ends - begins) > timedelta(hours=MAX_HOURS):
        raise ShiftRefused(f"一个班次不能超过 {MAX_HOURS} 小时")
    clash = db.session.scalar(select(Shift).where(Shift.user_id == user_id, Shift.starts_at < ends,
                                                  Shift.ends_at > begins, Shift.id != (ignore or 0)).limit(1))
    if clash is not None:
        local = clash.starts_at.astimezone(display_zone())
        raise ShiftRefused(f"与已有班次重叠（{local:%m-%d %H:%M} 起）")


def scheduled_people() -> list[User]:
    serving = select(UserRole.user_id).where(UserRole.role.in_(SCHEDULED_ROLES))
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(serving))
                                   .order_by(User.team_id, User.display_name, User.id)))


def save(editor: User, agent_id: int, day: date, start: time, end: time, label: str, ip: str | None,
         shift_id: int | None = None) -> Shift:
    """Add a shift, or change one (`shift_id`)."""
    if agent_id not in {u.id for u in scheduled_people()}:
        raise ShiftRefused("只能为坐席或班长排班")
    begins, ends = shift_times(day, start, end)
    _check(agent_id, begins, ends, ignore=shift_id)
    if shift_id is None:
        row = Shift(user_id=agent_id)
        db.session.add(row)
        before = None
    else:
        row = db.session.get(Shift, shift_id)
        if row is None:
            raise ShiftRefused("该班次已被删除")
        before = _describe(row)
    row.starts_at, row.ends_at, row.label = begins, ends, (label or "").strip()[:16]
    row.updated_by, row.updated_at = editor.id, clock.now()
    db.session.flush()
    audit_trail.append(audit_trail.Actor.of(editor, ip), "schedule.shift_saved",
                       summary=f"{'修改' if before else '新增'}排班：{row.user.display_name} {_describe(row)}",
                       data={"shift_id": row.id, "agent_id": agent_id, "before": before, "after": _describe(row)})
    db.session.commit()
    return row


def delete(editor: User, shift_id: int, ip: str | None) -> None:
    row = db.session.get(Shift, shift_id)
    if row is None:
        raise ShiftRefused("该班次已被删除")
    audit_trail.append(audit_trail.Actor.of(editor, ip), "schedule.shift_deleted",
                       summary=f"删除排班：{row.user.display_name} {_describe(row)}",
                       data={"shift_id": row.id, "agent_id": row.user_id, "shift": _describe(row)})
    db.session.delete(row)
    db.session.commit()


def _describe(row: Shift) -> str:
    zone = display_zone()
    begins, ends = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
    overnight = "次日" if ends.date() != begins.date() else ""
    return f"{begins:%Y-%m-%d %H:%M}–{overnight}{ends:%H:%M}" + (f"（{row.label}）" if row.label else "")


@dataclass
class ImportOutcome:
    created: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.file_error is None


def _cell(value) -> str | date | time:
    """Dates and times as Excel holds them (a date cell, a time cell) or as typed text."""
    if isinstance(value, datetime):
        return value.date() if value.time() == time() else value.time()
    if isinstance(value, date | time):
        return value
    return spreadsheets.cell_text(value)


def _day(value) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        return None


def import_sheet(editor: User, stream: IO[bytes], ip: str | None) -> ImportOutcome:
    """Every row checked (the agent, the date, the times, no overlap with the schedule or with
    another row); all written in one transaction, or nothing. A row already in the schedule as it
    is (same agent, start and end) is left as it is."""
    outcome = ImportOutcome()
    rows, outcome.file_error = spreadsheets.read_rows(stream, COLUMNS, REQUIRED, MAX_ROWS, convert=_cell)
    if outcome.file_error:
        return outcome
    people = {u.username: u for u in scheduled_people()}
    planned: dict[int, list[tuple[datetime, datetime, int]]] = {}
    new_rows: list[Shift] = []
    for number, cells in rows:
        agent = people.get(str(cells.get("username", "")).strip())
        day = _day(cells.get("day", ""))
        start = cells.get("start") if isinstance(cells.get("start"), time) else parse_time(str(cells.get("start", "")))
        end = cells.get("end") if isinstance(cells.get("end"), time) else parse_time(str(cells.get("end", "")))
        if agent is None:
            outcome.errors.append((number, f"找不到坐席账号“{cells.get('username', '')}”"))
            continue
        if day is None or start is None or end is None:
            outcome.errors.append((number, "日期须为 2026-12-07，上下班时间须为 08:30 这样的时刻"))
            continue
        begins, ends = shift_times(day, start, end)
        same = db.session.scalar(select(Shift).where(Shift.user_id == agent.id, Shift.starts_at == begins))
        if same is not None and same.ends_at == ends:
            outcome.unchanged += 1
            continue
        try:
            _check(agent.id, begins, ends)
        except ShiftRefused as exc:
            outcome.errors.append((number, exc.message))
            continue
        clash = next((row for b, e, row in planned.get(agent.id, []) if b < ends and e > begins), None)
        if clash is not None:
            outcome.errors.append((number, f"与第 {clash} 行的班次重叠"))
            continue
        planned.setdefault(agent.id, []).append((begins, ends, number))
        label = str(cells.get("label", "")).strip()[:16]
        new_rows.append(Shift(user_id=agent.id, starts_at=begins, ends_at=ends, label=label, updated_by=editor.id,
                              updated_at=clock.now()))
    if outcome.errors:
        db.session.rollback()
        return outcome
    db.session.add_all(new_rows)
    outcome.created = len(new_rows)
    if new_rows:
        audit_trail.append(audit_trail.Actor.of(editor, ip), "schedule.imported",
                           summary=f"导入排班：新增 {outcome.created} 个班次", data={"created": outcome.created,
                                                                           "unchanged": outcome.unchanged})
    db.session.commit()
    return outcome


def template() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "排班"
    sheet.append(["账号*", "日期*", "上班*", "下班*", "班次"])
    sheet.append(["agent1", "2026-12-07", "08:30", "17:30", "早班"])
    sheet.append(["agent2", "2026-12-07", "22:00", "06:00", "夜班"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def day_kind(day: date) -> str:
    """节假日 (a holiday on a weekday), 调休 (a weekend working day) or ""; the hotline serves 7×24 either way."""
    from workflows.working_days import is_working_day

    working = is_working_day(day)
    if not working and day.weekday() < 5:
        return "节假日"
    if working and day.weekday() >= 5:
        return "调休上班"
    return ""


@dataclass
class WeekGrid:
    days: list[date]
    people: list[User]
    cells: dict[tuple[int, date], list[Shift]]
    week_hours: dict[int, float]
    month_hours: dict[int, float]
    quarter_hours: dict[int, float]
    coverage: dict[date, list[int]]  # agents on shift in each hour of the day
    kinds: dict[date, str]

    @property
    def gaps(self) -> int:
        """Hours of the week with nobody on shift (7×24 service needs none)."""
        return sum(1 for hours in self.coverage.values() for n in hours if n == 0)


def week_grid(day: date, team_id: int | None = None) -> WeekGrid:
    from app.workforce import attendance

    days = week_of(day)
    people = [p for p in scheduled_people() if team_id is None or p.team_id == team_id]
    ids = [p.id for p in people]
    zone = display_zone()
    start = datetime.combine(days[0], time(), tzinfo=zone)
    end = start + timedelta(days=7)
    cells: dict[tuple[int, date], list[Shift]] = {}
    week_hours: dict[int, float] = {}
    on_shift: list[Shift] = []
    for shift in attendance.shifts_between(start - timedelta(days=1), end, ids):
        on_shift.append(shift)
        local_day = shift.starts_at.astimezone(zone).date()
        if local_day in days:
            cells.setdefault((shift.user_id, local_day), []).append(shift)
            week_hours[shift.user_id] = week_hours.get(shift.user_id, 0.0) + shift.hours
    coverage = {}
    for d in days:
        hours = []
        for hour in range(24):
            moment = datetime.combine(d, time(hour, 30), tzinfo=zone)
            hours.append(sum(1 for s in on_shift if s.starts_at <= moment < s.ends_at))
        coverage[d] = hours
    month = attendance.by_agent(days[3], clock.now(), ids)  # the month holding most of the week (its Thursday)
    return WeekGrid(days, people, cells, week_hours, {k: v.scheduled_hours for k, v in month.items()},
                    attendance.quarter_hours(days[3], ids), coverage, {d: day_kind(d) for d in days})
