"""Deadlines (时限) on the working-day calendar, and the helper functions BPMN scripts may call.

Scripts keep times as ISO-8601 UTC strings in the task data: JSON-safe, and what the engine's
timeDate timers read directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workflows import clock
from workflows.working_days import WorkingHours, add_working_days, add_working_hours, fraction_point

# Working days a department has to handle a ticket, by category (业务规则, editable later by managers).
HANDLE_DAYS: dict[str, int] = {
    "consultation": 3, "help": 5, "complaint": 5, "suggestion": 10, "praise": 3, "business": 5,
}
URGENT_HANDLE_DAYS = 1
ACCEPT_HOURS: dict[str, float] = {"normal": 4, "urgent": 1}  # working hours to accept (签收)


@dataclass(frozen=True)
class SlaPolicy:
    hours: WorkingHours = field(default_factory=WorkingHours)
    warning_share: float = 0.8  # warn when this share of the handling time has passed
    major_event_days: int = 5  # 工单超期: 5 working days past the deadline is a major event
    first_handling_days: int = 1  # 工单初次处理时限
    max_callback_attempts: int = 3
    escalate_after_redispatches: int = 3


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_iso(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"时间缺少时区：{value}")
    return moment.astimezone(UTC)


def handle_days(category: str, urgency: str) -> int:
    if urgency == "urgent":
        return URGENT_HANDLE_DAYS
    return HANDLE_DAYS.get(category, 5)


def deadlines(policy: SlaPolicy, category: str, urgency: str, dispatched_at: str) -> dict[str, str]:
    start = parse_iso(dispatched_at)
    due = add_working_days(start, handle_days(category, urgency), policy.hours)
    return {
        "accept_due_at": iso(add_working_hours(start, ACCEPT_HOURS.get(urgency, 4), policy.hours)),
        "handle_due_at": iso(due),
        "handle_warning_at": iso(fraction_point(start, due, policy.warning_share, policy.hours)),
        "handle_major_at": iso(add_working_days(due, policy.major_event_days, policy.hours)),
    }


def extended(policy: SlaPolicy, handle_due_at: str, extra_days: int, dispatched_at: str) -> dict[str, str]:
    """New deadlines after an approved extension (延期): the deadline moves by `extra_days`."""
    due = add_working_days(parse_iso(handle_due_at), int(extra_days), policy.hours)
    return {
        "handle_due_at": iso(due),
        "handle_warning_at": iso(fraction_point(parse_iso(dispatched_at), due, policy.warning_share, policy.hours)),
        "handle_major_at": iso(add_working_days(due, policy.major_event_days, policy.hours)),
    }


def script_helpers(policy: SlaPolicy) -> dict[str, Callable]:
    """The functions BPMN scripts and expressions may call, bound to the configured policy."""
    return {
        "now": lambda: iso(clock.now()),
        "add_working_days": lambda start, days: iso(add_working_days(parse_iso(start), int(days), policy.hours)),
        "add_working_hours": lambda start, hours: iso(add_working_hours(parse_iso(start), float(hours), policy.hours)),
        "sla_deadlines": lambda category, urgency, start: deadlines(policy, category, urgency, start),
        "extend_deadlines": lambda due, days, dispatched: extended(policy, due, days, dispatched),
    }
