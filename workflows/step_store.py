"""The rows one engine step reads and writes, as plain SQL statements inside the step's transaction.

A step touches a handful of rows (instance, ticket, open tasks, audit entries); going through
the ORM's unit of work for them cost more than the BPMN engine itself. Here a step reads the
instance and the ticket with one locking SELECT and writes exactly what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.sql import Executable

from app.extensions import db
from app.models import AuditEntry, DeliveredMessage, Department, OpenTask, ProcessInstance, SlaEvent, Ticket
from app.timefmt import local_today
from workflows import step_sql_pg
from workflows.numbering import next_number

_instance = ProcessInstance.__table__
_ticket = Ticket.__table__
_open_task = OpenTask.__table__
INSTANCE_FIELDS = ("id", "ticket_id", "version_id", "serializer_version", "status", "next_timer_at",
                   "lock_version", "updated_at")
TICKET_FIELDS = tuple(column.name for column in _ticket.columns)


_statements: dict[Any, Executable] = {}


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _statement(key: Any, build: Callable[[], Executable]) -> Executable:
    """Each statement is built once per process: building one (and computing its cache key) cost
    more than running it."""
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = build()
    return statement


class TicketRow:
    """A ticket's columns as a step reads and changes them, remembering which ones changed.

    Steps hand one back instead of a mapped Ticket; an attribute that is not a column (the
    department, the owner, …) loads the mapped ticket on first use."""

    __slots__ = ("_values", "_changed", "_frozen", "open_tasks")

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_changed", set())
        object.__setattr__(self, "_frozen", False)
        object.__setattr__(self, "open_tasks", [])

    def freeze(self) -> None:
        """After the step committed: a change now would silently go nowhere, so it is refused."""
        object.__setattr__(self, "_frozen", True)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        return getattr(db.session.get(Ticket, values["id"]), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "open_tasks":
            object.__setattr__(self, name, value)
            return
        if name not in self._values:
            raise AttributeError(f"ticket has no column {name}")
        if self._frozen:
            raise AttributeError("the step has committed; load the Ticket model to change the ticket")
        if self._values[name] != value:
            self._values[name] = value
            self._changed.add(name)

    def changed(self) -> dict[str, Any]:
        return {name: self._values[name] for name in self._changed}

    def __repr__(self) -> str:
        return f"<TicketRow {self._values.get('number')}>"


@dataclass
class StepWrites:
    """What a step adds besides the instance and ticket rows, written at the end in one go."""

    open_tasks_added: list[dict] = field(default_factory=list)
    open_tasks_gone: set[str] = field(default_factory=set)
    all_open_tasks_gone: bool = False
    department_moved_to: int | None = None
    audit_entries: list[dict] = field(default_factory=list)
    sla_events: list[dict] = field(default_factory=list)
    receipts: list[dict] = field(default_factory=list)


def _lock_statement(skip_locked: bool) -> Executable:
    columns = [_instance.c[name] for name in INSTANCE_FIELDS] + [_ticket.c[name].label(f"t_{name}")
                                                                 for name in TICKET_FIELDS]
    return (select(*columns).select_from(_instance.join(_ticket, _ticket.c.id == _instance.c.ticket_id))
            .where(_instance.c.ticket_id == bindparam("ticket_id"))
            .with_for_update(of=_instance, skip_locked=skip_locked))


def lock(ticket_id: int, skip_locked: bool = False) -> tuple[dict, TicketRow] | None:
    """The instance and its ticket, the instance row locked until the step commits."""
    if _on_postgresql():
        read = step_sql_pg.lock(INSTANCE_FIELDS, TICKET_FIELDS, ticket_id, skip_locked)
        return None if read is None else (read[0], TicketRow(read[1]))
    statement = _statement(("lock", skip_locked), lambda: _lock_statement(skip_locked))
    row = db.session.execute(statement, {"ticket_id": ticket_id}).first()
    if row is None:
        return None
    values = row._asdict()
    instance = {name: values[name] for name in INSTANCE_FIELDS}
    return instance, TicketRow({name: values[f"t_{name}"] for name in TICKET_FIELDS})


def exists(ticket_id: int) -> bool:
    return db.session.scalar(select(_instance.c.id).where(_instance.c.ticket_id == ticket_id)) is not None


def department_active(department_id: int) -> bool:
    table = Department.__table__
    statement = _statement("department_active", lambda: select(table.c.active).where(table.c.id == bindparam("id")))
    return bool(db.session.execute(statement, {"id": department_id}).scalar())


def stored_state(instance_id: int) -> bytes:
    return db.session.scalar(select(_instance.c.state).where(_instance.c.id == instance_id))


def create(ticket_values: dict[str, Any], instance_values: dict[str, Any], now: datetime) -> tuple[int, str, int]:
    """Insert a new ticket, numbered by the day of `now`, and its process instance; returns
    (ticket id, number, instance id). Neither dict names the ids or the number."""
    day = local_today(now)
    if _on_postgresql():
        return step_sql_pg.create(ticket_values, instance_values, day)
    number = next_number(day)
    ticket_statement = _statement("insert_ticket", lambda: insert(_ticket).returning(_ticket.c.id))
    ticket_id = db.session.execute(ticket_statement, {**ticket_values, "number": number}).scalar_one()
    instance_statement = _statement("insert_instance", lambda: insert(_instance).returning(_instance.c.id))
    instance_id = db.session.execute(instance_statement, {**instance_values, "ticket_id": ticket_id}).scalar_one()
    return ticket_id, number, instance_id


def save(instance: dict, state: bytes, ticket: TicketRow, writes: StepWrites, now: datetime) -> bool:
    """Write the step; False when the instance's lock version moved (nothing is then kept,
    the caller rolls back)."""
    if _on_postgresql() and not (writes.sla_events or writes.receipts):
        # A user's step in one statement; a timer's or a message's (which add rows whose unique
        # keys may clash) take the general path below.
        if not step_sql_pg.save(instance, state, ticket.changed(), ticket.id, sorted(writes.open_tasks_gone),
                                writes.all_open_tasks_gone, writes.department_moved_to,
                                writes.open_tasks_added, writes.audit_entries, now):
            return False
        instance["lock_version"] += 1
        instance["updated_at"] = now
        return True
    statement = _statement("save_instance", lambda: update(_instance).where(
        _instance.c.id == bindparam("b_id"), _instance.c.lock_version == bindparam("b_lock_version")).values(
        state=bindparam("state"), status=bindparam("status"), next_timer_at=bindparam("next_timer_at"),
        lock_version=bindparam("lock_version"), updated_at=bindparam("updated_at")))
    moved = db.session.execute(statement, {
        "b_id": instance["id"], "b_lock_version": instance["lock_version"], "state": state,
        "status": instance["status"], "next_timer_at": instance["next_timer_at"],
        "lock_version": instance["lock_version"] + 1, "updated_at": now}).rowcount
    if moved != 1:
        return False
    instance["lock_version"] += 1
    instance["updated_at"] = now
    write_rows(instance["id"], ticket, writes)
    return True


def _update_ticket(columns: frozenset[str]) -> Executable:
    return update(_ticket).where(_ticket.c.id == bindparam("b_id")).values(
        {name: bindparam(name) for name in sorted(columns)})


def write_rows(instance_id: int, ticket: TicketRow, writes: StepWrites) -> None:
    """The ticket's changed columns and the step's other rows."""
    session = db.session
    changed = ticket.changed()
    if changed:
        columns = frozenset(changed)
        statement = _statement(("update_ticket", columns), lambda: _update_ticket(columns))
        session.execute(statement, {**changed, "b_id": ticket.id})
    if writes.all_open_tasks_gone:
        session.execute(delete(_open_task).where(_open_task.c.instance_id == instance_id))
    elif writes.open_tasks_gone:
        statement = _statement("delete_open_task", lambda: delete(_open_task).where(
            _open_task.c.id.in_(bindparam("ids", expanding=True))))
        session.execute(statement, {"ids": sorted(writes.open_tasks_gone)})
    if writes.department_moved_to is not None:
        session.execute(update(_open_task).where(_open_task.c.instance_id == instance_id,
                                                 _open_task.c.department_id.is_not(None))
                        .values(department_id=writes.department_moved_to))
    for table, rows in ((_open_task, writes.open_tasks_added), (AuditEntry.__table__, writes.audit_entries),
                        (SlaEvent.__table__, writes.sla_events), (DeliveredMessage.__table__, writes.receipts)):
        if rows:
            session.execute(_statement(("insert", table.name), lambda table=table: insert(table)), rows)
