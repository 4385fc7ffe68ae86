"""Times are stored in UTC and shown in the hotline's time zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def display_zone() -> ZoneInfo:
    name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(display_zone()).strftime(fmt)


def local_midnight(day: date) -> datetime:
    """The start of `day` in the hotline's time zone (an aware datetime)."""
    return datetime.combine(day, time.min, tzinfo=display_zone())


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = local_midnight(day)
    return start, local_midnight(day + timedelta(days=1))


def local_today(now: datetime) -> date:
    return now.astimezone(display_zone()).date()
