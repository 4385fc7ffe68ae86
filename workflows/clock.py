"""The engine's clock. SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module;
we point that module at this clock so that tests can freeze time for the platform and the
engine together (and a sweep at 10:00 sees exactly the timers due by 10:00)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


_spiff_timer.datetime = _EngineDatetime  # the one sharp edge we patch; see ENGINE-NOTES


def freeze(moment: datetime | None) -> None:
    """Stop the clock at `moment` (aware), or let it run again with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment.astimezone(UTC) if moment else None


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    previous = _frozen
    freeze(moment)
    try:
        yield
    finally:
        freeze(previous)
