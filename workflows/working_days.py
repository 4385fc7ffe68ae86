"""Working-day (工作日) arithmetic on the official Chinese calendar for SLA deadlines and warning points."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Guards the day-by-day scan: no real calendar goes a year without a working day, so reaching it means a bug.
_MAX_SCAN_DAYS = 366
_warned_years: set[int] = set()


@dataclass(frozen=True)
class WorkingHours:
    periods: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))
    zone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("working hours need at least one period")
        ordered = tuple(sorted(self.periods))
        for start, end in ordered:
            if end <= start:
                raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} must end after it starts")
        for (_, prev_end), (start, end) in zip(ordered, ordered[1:], strict=False):
            if start < prev_end:
                raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} overlaps the one ending {prev_end:%H:%M}")
        try:
            ZoneInfo(self.zone)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.zone!r}") from exc
        # Frozen, but later scans rely on chronological order, so store the sorted form.
        object.__setattr__(self, "periods", ordered)

    @classmethod
    def parse(cls, text: str, zone: str = "Asia/Shanghai") -> WorkingHours:
        """Read "09:00-12:00,13:30-17:30" (local time) as configured by an administrator."""
        periods = []
        for part in text.split(","):
            match = _PERIOD.match(part)
            if not match:
                raise ValueError(f"bad working period {part.strip()!r}: expected HH:MM-HH:MM, e.g. 09:00-12:00")
            h1, m1, h2, m2 = map(int, match.groups())
            try:
                periods.append((time(h1, m1), time(h2, m2)))
            except ValueError as exc:
                raise ValueError(f"bad working period {part.strip()!r}: {exc}") from exc
        return cls(tuple(periods), zone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The package only knows years the State Council has already published; deadlines near year end
        # must still be computable, so assume a plain Monday-Friday week until the package is upgraded.
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no official holiday data for %s; treating Monday-Friday as working days", day.year)
        return day.weekday() < 5


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


def _periods_from(moment: datetime, hours: WorkingHours) -> Iterator[tuple[datetime, datetime]]:
    """Working periods (as UTC pairs) ending after `moment`, in order."""
    # Arithmetic happens in UTC so that a zone with daylight saving still measures real elapsed time.
    day, idle = moment.astimezone(hours.tz).date(), 0
    while idle <= _MAX_SCAN_DAYS:
        idle += 1
        if is_working_day(day):
            idle = 0
            for start, end in hours.periods:
                utc_start = datetime.combine(day, start, hours.tz).astimezone(UTC)
                utc_end = datetime.combine(day, end, hours.tz).astimezone(UTC)
                if utc_end > moment:
                    yield utc_start, utc_end
        day += timedelta(days=1)
    raise RuntimeError(f"no working day for a year after {day - timedelta(days=idle)}")


def _roll(moment: datetime, hours: WorkingHours) -> datetime:
    start, _ = next(_periods_from(moment, hours))
    return max(start, moment)


def add_working_days(start: datetime, days: int, hours: WorkingHours = WorkingHours()) -> datetime:
    if days < 0:
        raise ValueError(f"working days must not be negative, got {days}")
    rolled = _roll(_require_aware(start), hours).astimezone(hours.tz)
    day, remaining = rolled.date(), days
    while remaining:
        day += timedelta(days=1)
        remaining -= is_working_day(day)
    # Same wall-clock time as the (rolled) start, so the deadline is again inside working time.
    return datetime.combine(day, rolled.time(), hours.tz).astimezone(UTC)


def add_working_hours(start: datetime, hours_: float, hours: WorkingHours = WorkingHours()) -> datetime:
    if hours_ < 0:
        raise ValueError(f"working hours must not be negative, got {hours_}")
    moment = _require_aware(start)
    remaining = timedelta(hours=hours_)
    for period_start, period_end in _periods_from(moment, hours):
        begin = max(period_start, moment)
        # "<=" so that a deadline using up a period exactly is that period's end, not the next morning.
        if remaining <= period_end - begin:
            return begin + remaining
        remaining -= period_end - begin
    raise AssertionError("unreachable: _periods_from never ends normally")


def working_seconds_between(start: datetime, end: datetime, hours: WorkingHours = WorkingHours()) -> float:
    start, end = _require_aware(start), _require_aware(end)
    total = 0.0
    if end <= start:
        return total
    for period_start, period_end in _periods_from(start, hours):
        if period_start >= end:
            break
        total += (min(period_end, end) - max(period_start, start)).total_seconds()
    return total


def fraction_point(start: datetime, end: datetime, fraction: float, hours: WorkingHours = WorkingHours()) -> datetime:
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    end = _require_aware(end)
    if fraction == 1:
        return end
    total = working_seconds_between(start, end, hours)
    point = add_working_hours(start, fraction * total / 3600, hours)
    # With no working time before the deadline the rolled start would lie past it; a warning must not.
    return min(point, end)
