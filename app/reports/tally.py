"""Indicators counted by the database (一次扫描): the figures over calls, conversations and tickets
are sums the database computes, never rows loaded into Python — a month holds millions of calls.

A `Tally` says which rows an indicator is made of (`rows`), what it adds up over them (`sums`, each
a number per row) and how those sums become its figure. The manager's exclusions become conditions
on the same statement: a record left out by its key (``contact:12``), a force majeure day by the
indicator's time column. The tallies that share a scan (the calls; the conversations; the
tickets) are answered by one statement, so a month's three call indicators read the calls once;
grouped by a dimension (agent, team, queue, channel, department) the same statement gives each
group's figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Integer, and_, false, func, literal, not_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db
from app.timefmt import local_midnight

if TYPE_CHECKING:
    from app.reports.indicators import Figure, Period


class longer_than(FunctionElement):  # noqa: N801 - used like an SQL function
    """later − earlier > seconds (a measure's deadline broken), on PostgreSQL and SQLite alike."""

    type = Boolean()
    inherit_cache = True


@compiles(longer_than, "postgresql")
def _pg_longer(element, compiler, **kw):
    # timestamps compared as they are: EXTRACT(EPOCH …) would make a numeric of every row
    later, earlier, seconds = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} > {earlier} + make_interval(secs => {seconds}))"


@compiles(longer_than)
def _sqlite_longer(element, compiler, **kw):
    # julianday() is a double: rounded to the millisecond so that exactly 30 s is not 30.00004 s
    later, earlier, seconds = (compiler.process(c, **kw) for c in element.clauses)
    return f"(ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3) > {seconds})"


class hours_since(FunctionElement):  # noqa: N801 - used like an SQL function
    """Whole hours from an origin to a moment (a report's bars are made of these): plain arithmetic on
    the stored instant, cheap for millions of rows, where a time-zone conversion per row is not."""

    type = Integer()
    inherit_cache = True


@compiles(hours_since, "postgresql")
def _pg_hours(element, compiler, **kw):
    column, origin = (compiler.process(c, **kw) for c in element.clauses)
    return f"floor((date_part('epoch', {column}) - date_part('epoch', {origin})) / 3600)"


@compiles(hours_since)
def _sqlite_hours(element, compiler, **kw):
    column, origin = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(ROUND((julianday({column}) - julianday({origin})) * 86400.0, 3) / 3600) AS INTEGER)"


@dataclass(frozen=True)
class Condition:
    """A sum that counts the kept rows meeting a condition."""

    clause: ColumnElement


def counted(condition: ColumnElement) -> Condition:
    return Condition(condition)


@dataclass(frozen=True)
class Dimension:
    label: str
    column: Any
    names: Callable[[set], dict] | None = None  # ids → display names
    join: tuple | None = None  # (table, on clause) when the column is another table's (an agent's team)


@dataclass(frozen=True)
class Tally:
    entity: Any  # the mapped class scanned (Contact, Ticket)
    prefix: str  # the record keys' prefix: ``contact`` for ``contact:12``
    when: Any  # the time column a force majeure day is matched on
    scan: Callable[[Period], ColumnElement]  # the rows every tally of this entity lies within (one index range)
    rows: Callable[[Period], ColumnElement]  # the indicator's own rows
    sums: Callable[[Period], dict[str, ColumnElement]]  # per-row numbers summed over the kept rows
    figure: Callable[[dict[str, float], Period], Figure]  # the figure from the sums (``n``: rows kept)
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    agent: Any = None  # the column a team's or an agent's view is limited by
    order: Any = None  # the 明细's order (default: `when`)

    def kept(self, code: str, period: Period) -> ColumnElement:
        """The condition a row stays in: not left out by key, not on a force majeure day."""
        ident = self.entity.id
        ids = [int(key.split(":", 1)[1]) for key in period.excluded_items.get(code, ())
               if key.startswith(f"{self.prefix}:") and key.split(":", 1)[1].isdigit()]
        conditions = [not_(ident.in_(ids))] if ids else []
        days = sorted(period.excluded_days)
        if days:
            on_a_day = or_(*(and_(self.when >= local_midnight(d), self.when < local_midnight(d + timedelta(days=1)))
                             for d in days))
            conditions.append(or_(self.when.is_(None), not_(on_a_day)))
        return and_(*conditions) if conditions else _KEEP_ALL

    def own_rows(self, period: Period) -> ColumnElement:
        rows = self.rows(period)
        if period.agent_ids is not None and self.agent is not None:
            rows = and_(rows, self.agent.in_(period.agent_ids) if period.agent_ids else false())
        return rows


_KEEP_ALL = true()


@dataclass
class Counted:
    sums: dict[str, float]
    left_out: int


def _columns(code: str, tally: Tally, period: Period) -> list:
    # FILTER, not CASE: the database skips a row for a sum at once, which halves a month's scan
    rows, kept = tally.own_rows(period), tally.kept(code, period)
    inside = and_(rows, kept)
    columns = [func.count().filter(inside).label(f"{code}__n")]
    if kept is not _KEEP_ALL:
        columns.append(func.count().filter(and_(rows, not_(kept))).label(f"{code}__left"))
    for name, value in tally.sums(period).items():
        if isinstance(value, Condition):
            columns.append(func.count().filter(and_(inside, value.clause)).label(f"{code}__{name}"))
        else:
            columns.append(func.coalesce(func.sum(value).filter(inside), 0).label(f"{code}__{name}"))
    return columns


def _read(code: str, tally: Tally, period: Period, row) -> Counted:
    values = row._mapping
    sums = {"n": float(values[f"{code}__n"])}
    for name in tally.sums(period):
        sums[name] = float(values[f"{code}__{name}"] or 0)
    return Counted(sums, int(values.get(f"{code}__left", 0)))


def count_all(tallies: dict[str, Tally], period: Period) -> dict[str, Counted]:
    """Every tally's sums, one statement per scan (the calls, the conversations, the tickets)."""
    found: dict[str, Counted] = {}
    by_scan: dict[Any, list[tuple[str, Tally]]] = {}
    for code, tally in tallies.items():
        by_scan.setdefault((tally.entity, tally.scan), []).append((code, tally))
    for (entity, _scan), group in by_scan.items():
        columns = [column for code, tally in group for column in _columns(code, tally, period)]
        where = and_(group[0][1].scan(period), or_(*(tally.own_rows(period) for _code, tally in group)))
        row = db.session.execute(select(*columns).select_from(entity).where(where)).one()
        for code, tally in group:
            found[code] = _read(code, tally, period, row)
    return found


def count_by(code: str, tally: Tally, period: Period, dimension: str) -> list[tuple[Any, Counted]]:
    """One tally's sums for each value of a dimension (each agent, queue, channel, department)."""
    found = tally.dimensions[dimension]
    source = tally.entity.__table__
    if found.join is not None:
        source = source.outerjoin(*found.join)
    statement = (select(found.column.label("group_key"), *_columns(code, tally, period)).select_from(source)
                 .where(and_(tally.scan(period), tally.own_rows(period))).group_by(found.column))
    return [(row.group_key, _read(code, tally, period, row)) for row in db.session.execute(statement)]


def literal_time(moment: datetime) -> ColumnElement:
    """A moment as a value of the statement (`now` of a still-open conversation)."""
    from app.models.types import UTCDateTime

    return literal(moment, UTCDateTime())


def listed(tally: Tally, period: Period, limit: int) -> list:
    """The first rows of a tally, in time order (its 明细)."""
    statement = (select(tally.entity).where(tally.scan(period), tally.own_rows(period))
                 .order_by(tally.order if tally.order is not None else tally.when, tally.entity.id).limit(limit))
    return list(db.session.scalars(statement))
