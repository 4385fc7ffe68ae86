"""SLA deadline arithmetic on the Chinese working calendar (no database needed)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows import working_days
from workflows.working_days import (
    WorkingHours,
    add_working_days,
    add_working_hours,
    fraction_point,
    is_working_day,
    working_seconds_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """The expected instant, written in Beijing time, as the UTC value the module returns."""
    return local(year, month, day, hour, minute).astimezone(UTC)


def assert_utc(actual: datetime, expected: datetime) -> None:
    assert actual.tzinfo is UTC
    assert actual == expected


def test_calendar_facts_the_other_tests_rely_on():
    """The 2025 and 2026 Spring Festival rest days and make-up working weekend days are as the State Council published."""
    assert not any(is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))  # Saturdays worked for the festival
    assert is_working_day(date(2026, 2, 24))
    assert is_working_day(date(2025, 1, 26))  # a Sunday worked before the 2025 festival
    assert not is_working_day(date(2025, 1, 25))
    assert not any(is_working_day(date(2025, 1, 28) + timedelta(days=d)) for d in range(8))


def test_weekday_complaint_is_due_next_working_day_same_time():
    """A complaint dispatched on Monday at 10:00 with a one-day SLA is due Tuesday 10:00, five days on the next Monday."""
    assert_utc(add_working_days(local(2026, 3, 2, 10), 1), utc(2026, 3, 3, 10))
    assert_utc(add_working_days(local(2026, 3, 2, 10), 5), utc(2026, 3, 9, 10))


def test_friday_dispatch_skips_the_weekend():
    """A consultation dispatched on Friday morning with a one-day SLA is due Monday morning, not Saturday."""
    assert_utc(add_working_days(local(2026, 3, 6, 10), 1), utc(2026, 3, 9, 10))


def test_spring_festival_2026_pushes_deadline_past_the_holiday():
    """A complaint dispatched before the 2026 Spring Festival is due on the make-up Saturday and then after the holiday."""
    assert_utc(add_working_days(local(2026, 2, 13, 15), 1), utc(2026, 2, 14, 15))  # Saturday 14 Feb is a working day
    assert_utc(add_working_days(local(2026, 2, 14, 10), 1), utc(2026, 2, 24, 10))  # 15-23 Feb are rest days
    assert_utc(add_working_days(local(2026, 2, 12, 10), 3), utc(2026, 2, 24, 10))


def test_adjusted_working_weekend_days_count():
    """A Friday complaint is due on the make-up Sunday before the 2025 festival, and a 2026 one on the make-up Saturday."""
    assert_utc(add_working_days(local(2025, 1, 24, 16), 1), utc(2025, 1, 26, 16))
    assert_utc(add_working_days(local(2025, 1, 26, 10), 2), utc(2025, 2, 5, 10))  # Sunday counts as day 0, festival skipped
    assert_utc(add_working_days(local(2026, 2, 27, 10), 1), utc(2026, 2, 28, 10))
    assert_utc(add_working_days(local(2026, 2, 28, 10), 1), utc(2026, 3, 2, 10))  # the following Sunday is a rest day again


def test_start_outside_working_time_counts_from_next_working_instant():
    """A call logged in the evening, at lunch, on a weekend or on a holiday starts its SLA clock at the next opening."""
    assert_utc(add_working_days(local(2026, 3, 2, 19), 1), utc(2026, 3, 4, 9))  # Monday evening -> from Tuesday 09:00
    assert_utc(add_working_days(local(2026, 3, 2, 12, 30), 1), utc(2026, 3, 3, 13, 30))  # lunch break -> 13:30
    assert_utc(add_working_days(local(2026, 3, 7, 11), 1), utc(2026, 3, 10, 9))  # Saturday -> from Monday 09:00
    assert_utc(add_working_days(local(2026, 2, 17, 11), 1), utc(2026, 2, 25, 9))  # festival -> from 24 Feb 09:00
    assert_utc(add_working_days(local(2025, 1, 25, 11), 1), utc(2025, 1, 27, 9))  # rest Saturday -> make-up Sunday 09:00
    assert_utc(add_working_days(local(2026, 3, 2, 19), 0), utc(2026, 3, 3, 9))
    assert_utc(add_working_days(local(2026, 3, 2, 10, 15), 0), utc(2026, 3, 2, 10, 15))
    with pytest.raises(ValueError, match="negative"):
        add_working_days(local(2026, 3, 2, 10), -1)


def test_add_working_hours_skips_lunch_break_and_night():
    """A two-hour callback promise made at 11:00 is kept by 14:30, and a three-hour one at 16:30 by 11:00 next morning."""
    assert_utc(add_working_hours(local(2026, 3, 2, 11), 2), utc(2026, 3, 2, 14, 30))
    assert_utc(add_working_hours(local(2026, 3, 2, 16, 30), 3), utc(2026, 3, 3, 11))
    assert_utc(add_working_hours(local(2026, 3, 2, 11), 1), utc(2026, 3, 2, 12))  # ends at the lunch break, not 13:30
    assert_utc(add_working_hours(local(2026, 3, 2, 9), 7), utc(2026, 3, 2, 17, 30))
    assert_utc(add_working_hours(local(2026, 3, 2, 20), 0.5), utc(2026, 3, 3, 9, 30))
    assert_utc(add_working_hours(local(2026, 2, 13, 17), 8), utc(2026, 2, 24, 9, 30))  # via make-up Saturday, over festival


def test_working_seconds_between_ignores_the_holiday():
    """Time a ticket spent open over the 2026 Spring Festival counts only Friday, the make-up Saturday and Tuesday."""
    seconds = working_seconds_between(local(2026, 2, 13, 9), local(2026, 2, 25, 9))
    assert seconds == 3 * 7 * 3600
    assert working_seconds_between(local(2026, 3, 2, 11), local(2026, 3, 2, 14)) == 1.5 * 3600
    assert working_seconds_between(local(2026, 3, 2, 14), local(2026, 3, 2, 11)) == 0
    assert working_seconds_between(local(2026, 2, 16, 9), local(2026, 2, 23, 18)) == 0


def test_fraction_point_gives_the_80_percent_warning():
    """The 80 % warning of a 5-working-day complaint deadline falls on working time, also across the Spring Festival."""
    start = local(2026, 3, 2, 10)
    deadline = add_working_days(start, 5)
    assert_utc(deadline, utc(2026, 3, 9, 10))
    warning = fraction_point(start, deadline, 0.8)
    assert_utc(warning, utc(2026, 3, 6, 10))
    assert working_seconds_between(start, warning) == 0.8 * working_seconds_between(start, deadline)

    start = local(2026, 2, 12, 10)
    deadline = add_working_days(start, 5)
    assert_utc(deadline, utc(2026, 2, 26, 10))
    assert_utc(fraction_point(start, deadline, 0.8), utc(2026, 2, 25, 10))
    assert_utc(fraction_point(start, deadline, 1), deadline)
    evening = local(2026, 3, 2, 19)
    assert_utc(fraction_point(evening, add_working_days(evening, 5), 0), utc(2026, 3, 3, 9))
    # no working time before an after-hours deadline: the warning must not come after the deadline itself
    assert_utc(fraction_point(local(2026, 3, 2, 18), local(2026, 3, 2, 19), 0.8), utc(2026, 3, 2, 19))
    with pytest.raises(ValueError, match="fraction"):
        fraction_point(start, deadline, 1.2)


def test_working_hours_parse_accepts_admin_setting():
    """An administrator's working-hours setting is read, sorted and used for deadlines."""
    assert WorkingHours.parse("09:00-12:00,13:30-17:30") == WorkingHours()
    custom = WorkingHours.parse(" 14:00 - 18:00 , 8:30-12:00 ")
    assert custom.periods == ((time(8, 30), time(12)), (time(14), time(18)))
    assert_utc(add_working_days(local(2026, 3, 2, 13), 1, custom), utc(2026, 3, 3, 14))
    assert_utc(add_working_hours(local(2026, 3, 2, 11), 2, custom), utc(2026, 3, 2, 15))
    assert WorkingHours.parse("09:00-17:00", zone="Asia/Urumqi").zone == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00-08:00", "must end after it starts"),
        ("09:00-09:00", "must end after it starts"),
        ("09:00-12:00,11:00-13:00", "overlaps"),
        ("9-12", "expected HH:MM-HH:MM"),
        ("", "expected HH:MM-HH:MM"),
        ("09:00-12:00;13:30-17:30", "expected HH:MM-HH:MM"),
        ("25:00-26:00", "bad working period"),
    ],
)
def test_working_hours_parse_rejects_bad_setting(text: str, message: str):
    """A mistyped working-hours setting is refused with a message the administrator can act on."""
    with pytest.raises(ValueError, match=message):
        WorkingHours.parse(text)


def test_working_hours_rejects_unknown_zone():
    """A working-hours setting with a misspelt time zone is refused rather than silently using UTC."""
    with pytest.raises(ValueError, match="time zone"):
        WorkingHours.parse("09:00-17:00", zone="Asia/Shanghia")


def test_year_without_official_data_falls_back_to_monday_to_friday(monkeypatch, caplog):
    """A complaint dispatched on New Year's Eve 2026 still gets a deadline in 2027, before its holidays are published."""
    monkeypatch.setattr(working_days, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="workflows.working_days"):
        assert_utc(add_working_days(local(2026, 12, 31, 10), 2), utc(2027, 1, 4, 10))  # Fri 1 Jan, then Mon 4 Jan
        assert is_working_day(date(2027, 1, 8)) and not is_working_day(date(2027, 1, 9))
        assert not is_working_day(date(2027, 1, 10))
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_naive_datetimes_are_refused():
    """A dispatch time without a time zone is refused, since 10:00 means different instants in Beijing and in UTC."""
    naive = datetime(2026, 3, 2, 10)
    aware = local(2026, 3, 3, 10)
    with pytest.raises(ValueError, match="time zone"):
        add_working_days(naive, 1)
    with pytest.raises(ValueError, match="time zone"):
        add_working_hours(naive, 1)
    with pytest.raises(ValueError, match="time zone"):
        working_seconds_between(naive, aware)
    with pytest.raises(ValueError, match="time zone"):
        fraction_point(aware, naive, 0.5)


def test_utc_input_is_read_in_local_working_hours():
    """A dispatch time stored in UTC (02:00Z = 10:00 Beijing) gets the same deadline as the Beijing wall-clock time."""
    assert_utc(add_working_days(datetime(2026, 3, 2, 2, tzinfo=UTC), 1), utc(2026, 3, 3, 10))
