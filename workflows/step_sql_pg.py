"""A step's reads and writes on PostgreSQL, through the driver: three round trips a step.

The locking SELECT, then one statement whose data-modifying WITH clauses write the instance,
the ticket, the open tasks and the audit entries, then COMMIT. Each clause writes only when the
instance's UPDATE matched (its lock version had not moved), so a stale step writes nothing.
Texts are fixed per shape, so psycopg prepares each one once per connection. Every name put
into a text is a column name from this module or the models, never a value: values are
always parameters (hence the `noqa: S608` marks)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from app.extensions import db
from workflows.numbering import PG_NUMBER_SQL, number_prefix

OPEN_TASK_COLUMNS = ("id", "instance_id", "ticket_id", "task_name", "title", "form", "role", "department_id",
                     "assignee_id", "due_at", "created_at")
AUDIT_COLUMNS = ("occurred_at", "ticket_id", "user_id", "username", "role", "ip", "action", "task_name", "summary",
                 "data_json", "prev_hash", "hash")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=lambda value: value.isoformat())
_texts: dict[Any, str] = {}


def _driver():
    return db.session.connection().connection.driver_connection


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def lock(instance_fields: tuple[str, ...], ticket_fields: tuple[str, ...], ticket_id: int,
         skip_locked: bool) -> tuple[dict, dict] | None:
    key = ("lock", skip_locked)
    text = _texts.get(key)
    if text is None:
        columns = [f"i.{name}" for name in instance_fields] + [f"t.{name}" for name in ticket_fields]
        skip = " SKIP LOCKED" if skip_locked else ""
        text = _texts[key] = (
            f"SELECT {', '.join(columns)} FROM process_instance i JOIN ticket t ON t.id = i.ticket_id "  # noqa: S608
            f"WHERE i.ticket_id = %s FOR UPDATE OF i{skip}")
    row = _driver().execute(text, (ticket_id,)).fetchone()
    if row is None:
        return None
    values = [_utc(value) for value in row]
    split = len(instance_fields)
    return dict(zip(instance_fields, values[:split], strict=True)), dict(zip(ticket_fields, values[split:], strict=True))


def _rows_in(table: str, columns: tuple[str, ...], param: str) -> str:
    # The rows travel as one JSON parameter: encoding it is far cheaper than one array per column.
    names = ", ".join(columns)
    return (f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
            f"FROM json_populate_recordset(NULL::{table}, %({param})s::json) WHERE EXISTS (SELECT 1 FROM i)")


def _save_text(ticket_columns: tuple[str, ...], all_gone: bool, moved: bool) -> str:
    clauses = ["i AS (UPDATE process_instance SET state = %(state)s, status = %(status)s, "
               "next_timer_at = %(next_timer_at)s, lock_version = lock_version + 1, updated_at = %(now)s "
               "WHERE id = %(instance_id)s AND lock_version = %(lock_version)s RETURNING id)"]
    if ticket_columns:
        sets = ", ".join(f"{name} = %(t_{name})s" for name in ticket_columns)
        clauses.append(f"t AS (UPDATE ticket SET {sets} WHERE id = %(ticket_id)s AND EXISTS (SELECT 1 FROM i))")  # noqa: S608
    if all_gone:
        clauses.append("d AS (DELETE FROM open_task WHERE instance_id = %(instance_id)s AND EXISTS (SELECT 1 FROM i))")
    else:
        # The instance's own rows, looked up by instance: a plan that does not depend on how many
        # ids are gone, so PostgreSQL can keep one generic plan instead of planning every step.
        clauses.append("d AS (DELETE FROM open_task WHERE instance_id = %(instance_id)s AND id = ANY(%(gone)s::varchar[]) "
                       "AND EXISTS (SELECT 1 FROM i))")
    if moved:
        # A new round went to another department: its open department tasks follow. The rows the
        # clause above deletes are left out, as one statement must not change a row twice.
        clauses.append("m AS (UPDATE open_task SET department_id = %(moved_to)s WHERE instance_id = %(instance_id)s "
                       "AND department_id IS NOT NULL AND id <> ALL(%(gone)s::varchar[]) AND EXISTS (SELECT 1 FROM i))")
    clauses.append(f"o AS ({_rows_in('open_task', OPEN_TASK_COLUMNS, 'open_tasks')})")
    clauses.append(f"a AS ({_rows_in('audit_entry', AUDIT_COLUMNS, 'audit_entries')})")
    return "WITH " + ", ".join(clauses) + " SELECT count(*) FROM i"  # noqa: S608


def save(instance: dict, state: bytes, changed: dict[str, Any], ticket_id: int, gone: list[str], all_gone: bool,
         moved_to: int | None, open_tasks: list[dict], audit_entries: list[dict], now: datetime) -> bool:
    columns = tuple(sorted(changed))
    key = ("save", columns, all_gone, moved_to is not None)
    text = _texts.get(key)
    if text is None:
        text = _texts[key] = _save_text(columns, all_gone, moved_to is not None)
    params: dict[str, Any] = {"state": state, "status": instance["status"], "next_timer_at": instance["next_timer_at"],
                              "now": now, "instance_id": instance["id"], "lock_version": instance["lock_version"],
                              "ticket_id": ticket_id, "gone": gone, "moved_to": moved_to}
    params.update({f"t_{name}": value for name, value in changed.items()})
    params["open_tasks"] = _JSON.encode(open_tasks)
    params["audit_entries"] = _JSON.encode(audit_entries)
    return _driver().execute(text, params).fetchone()[0] == 1


def create(ticket_values: dict[str, Any], instance_values: dict[str, Any], day: date) -> tuple[int, str, int]:
    """A new ticket and its process instance in one statement: the day's ticket number counted up
    (its row stays locked until commit, as `numbering` explains), the ticket inserted with that
    number, the instance with the ticket's id. Returns (ticket id, number, instance id)."""
    ticket_columns, instance_columns = tuple(ticket_values), tuple(instance_values)
    key = ("create", ticket_columns, instance_columns)
    text = _texts.get(key)
    if text is None:
        number = PG_NUMBER_SQL.format(value="(SELECT last_value FROM n)")
        text = _texts[key] = (
            "WITH n AS (INSERT INTO ticket_sequence (day, last_value) VALUES (%(day)s, 1) ON CONFLICT (day) "  # noqa: S608
            "DO UPDATE SET last_value = ticket_sequence.last_value + 1 RETURNING last_value), "
            f"t AS (INSERT INTO ticket ({', '.join(ticket_columns)}, number) "
            f"VALUES ({', '.join(f'%(t_{name})s' for name in ticket_columns)}, {number}) RETURNING id, number), "
            f"i AS (INSERT INTO process_instance ({', '.join(instance_columns)}, ticket_id) "
            f"VALUES ({', '.join(f'%(i_{name})s' for name in instance_columns)}, (SELECT id FROM t)) RETURNING id) "
            "SELECT t.id, t.number, i.id FROM t, i")
    params: dict[str, Any] = {"day": day, "number_prefix": number_prefix(day)}
    params.update({f"t_{name}": value for name, value in ticket_values.items()})
    params.update({f"i_{name}": value for name, value in instance_values.items()})
    ticket_id, number, instance_id = _driver().execute(text, params).fetchone()
    return ticket_id, number, instance_id
