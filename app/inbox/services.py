"""Inbox queries, served from the open-task projection (never from workflow state).

Every query goes through the department scope, so a department handler sees only the tasks of
their own department (and the units below it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.auth.scope import visible_department_ids
from app.extensions import db
from app.models import OpenTask, Ticket, User
from app.models.types import utcnow
from app.roles import DEPT_HANDLER
from app.timefmt import local_day_bounds, local_today

VIEWS = {"mine": "我的待办", "pool": "待认领", "department": "本部门"}
NEAR_DEADLINE = timedelta(hours=24)


@dataclass
class Filters:
    category: str = ""
    step: str = ""
    channel: str = ""
    overdue: bool = False
    due_today: bool = False


def _today_bounds(now: datetime) -> tuple[datetime, datetime]:
    return local_day_bounds(local_today(now))


def _view_conditions(user: User, view: str) -> list:
    """Which open tasks a view holds; conditions on open_task alone, so counts need no join."""
    if view == "mine":
        return [OpenTask.assignee_id == user.id]
    if view == "pool":
        roles = [r for r in user.roles if r != DEPT_HANDLER]
        return [OpenTask.assignee_id.is_(None), OpenTask.role.in_(roles or ["-"])]
    # department: the handler's own departments only, whatever else the user may see
    departments = visible_department_ids(user) if user.has_role(DEPT_HANDLER) else set()
    if departments is None:
        departments = {d.id for d in user.departments}
    return [OpenTask.role == DEPT_HANDLER, OpenTask.department_id.in_(departments or {-1})]


def _filter_conditions(filters: Filters, now: datetime) -> tuple[list, list]:
    """(conditions on open_task, conditions on ticket): the ticket is joined only when filtered on."""
    tasks, tickets = [], []
    if filters.category:
        tickets.append(Ticket.category == filters.category)
    if filters.step:
        tasks.append(OpenTask.task_name == filters.step)
    if filters.channel:
        tickets.append(Ticket.channel == filters.channel)
    if filters.overdue:
        tasks.append(OpenTask.due_at < now)
    if filters.due_today:
        start, end = _today_bounds(now)
        tasks += [OpenTask.due_at >= start, OpenTask.due_at < end]
    return tasks, tickets


def views_for(user: User) -> list[str]:
    views = []
    if any(r != DEPT_HANDLER for r in user.roles):
        views += ["mine", "pool"]
    if user.has_role(DEPT_HANDLER):
        views.append("department")
    return views


def counts(user: User, now: datetime) -> dict[str, int]:
    """Open tasks per view, and the overdue / due-today counts of each."""
    result = {}
    start, end = _today_bounds(now)
    for view in views_for(user):
        base = select(func.count(), func.count().filter(OpenTask.due_at < now),
                      func.count().filter(OpenTask.due_at >= start, OpenTask.due_at < end)
                      ).where(*_view_conditions(user, view))
        total, overdue, today = db.session.execute(base).one()
        result[view], result[f"{view}_overdue"], result[f"{view}_today"] = total, overdue, today
    return result


def page(user: User, view: str, filters: Filters, number: int, per_page: int = 25):
    now = utcnow()
    task_conditions, ticket_conditions = _filter_conditions(filters, now)
    where = [*_view_conditions(user, view), *task_conditions, *ticket_conditions]
    counted = select(func.count()).select_from(OpenTask)
    if ticket_conditions:
        counted = counted.join(Ticket, Ticket.id == OpenTask.ticket_id)
    total = db.session.scalar(counted.where(*where))
    # The page's ids first, read off one index alone (the indexes below hold id, in the inbox's order; NULLS LAST
    # is PostgreSQL's order for an ascending index), then those rows with their tickets: the planner never has to
    # weigh sorting thousands of full rows of a department with several units.
    order = (OpenTask.due_at.asc().nulls_last(), OpenTask.created_at, OpenTask.id)
    page_ids = select(OpenTask.id).where(*where).order_by(*order).limit(per_page).offset((max(number, 1) - 1) * per_page)
    if ticket_conditions:
        page_ids = page_ids.join(Ticket, Ticket.id == OpenTask.ticket_id)
    rows = db.session.execute(
        select(OpenTask, Ticket).join(Ticket, Ticket.id == OpenTask.ticket_id)
        .where(OpenTask.id.in_(page_ids.scalar_subquery())).order_by(*order)).all()
    return rows, total


def claim(user: User, task_id: str) -> bool:
    """Take an unclaimed task of one's own role; False when someone was faster."""
    task = db.session.get(OpenTask, task_id)
    if task is None or not user.has_role(task.role):
        return False
    claimed = db.session.execute(
        update(OpenTask).where(OpenTask.id == task_id, OpenTask.assignee_id.is_(None)).values(assignee_id=user.id)
    ).rowcount
    db.session.commit()
    return claimed == 1


def release(user: User, task_id: str) -> bool:
    released = db.session.execute(
        update(OpenTask).where(OpenTask.id == task_id, OpenTask.assignee_id == user.id).values(assignee_id=None)
    ).rowcount
    db.session.commit()
    return released == 1


def urgency_class(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "near" if due_at - now < NEAR_DEADLINE else ""





def candidates(task: OpenTask) -> list[User]:
    """Who may take this task: active users with its role (and its department, for department tasks)."""
    from app.auth.scope import may_see_department
    from app.models import UserRole

    users = db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(
        select(UserRole.user_id).where(UserRole.role == task.role))).order_by(User.username)).all()
    return [u for u in users if task.department_id is None or may_see_department(u, task.department_id)]


def reassign(task_id: str, user_id: int | None) -> str | None:
    """A team lead gives a task to someone (or back to the pool); returns a Chinese problem or None."""
    task = db.session.get(OpenTask, task_id)
    if task is None:
        return "任务已完成或不存在"
    if user_id is not None and user_id not in {u.id for u in candidates(task)}:
        return "该用户没有办理此任务的角色或部门"
    task.assignee_id = user_id
    db.session.commit()
    return None
