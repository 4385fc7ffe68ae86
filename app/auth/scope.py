"""Department scope: the one filter every ticket query goes through.

A department handler (承办部门经办人) sees only the work of the departments they belong to and of
the units below them; hotline staff with `tickets.view_all` see everything; anyone else sees
nothing. Later ticket, task and attachment queries call `scope_to_departments` so the rule lives
in one place.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, select

from app.auth.permissions import can
from app.extensions import db
from app.models import Department


def department_ids_with_descendants(root_ids: list[int]) -> set[int]:
    """The given departments and every department below them."""
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        children = db.session.scalars(select(Department.id).where(Department.parent_id.in_(frontier))).all()
        frontier = set(children) - found
        found |= frontier
    return found


def visible_department_ids(user) -> set[int] | None:
    """None means unrestricted; otherwise the set of department ids the user may see."""
    if can(user, "tickets.view_all"):
        return None
    if can(user, "tickets.view_department"):
        return department_ids_with_descendants([d.id for d in user.departments])
    return set()


def scope_to_departments(query: Select, user, department_column: ColumnElement) -> Select:
    """Restrict a query to the rows whose department the user may see."""
    ids = visible_department_ids(user)
    if ids is None:
        return query
    if not ids:
        return query.where(false())
    return query.where(department_column.in_(ids))


def may_see_department(user, department_id: int | None) -> bool:
    ids = visible_department_ids(user)
    return ids is None or (department_id is not None and department_id in ids)
