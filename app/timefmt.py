"""Times are stored in UTC and shown in the hotline's time zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def display_zone() -> ZoneInfo:
    name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(display_zone()).strftime(fmt)
