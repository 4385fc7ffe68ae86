"""Keep the ticket row and the open-task rows in step with a workflow, after every step.

Inboxes and reports read these rows; nothing outside the engine deserializes a workflow."""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.roles import AGENT, DEPT_HANDLER, parse_role
from workflows.sla import parse_iso
from workflows.step_store import StepWrites, TicketRow

# What the ticket's status reads while a task of this name waits.
STATUS_BY_TASK = {
    "intake": "intake", "dispatch": "dispatching", "department_accept": "department",
    "department_handle": "department", "extension_review": "extension", "return_review": "reviewing",
    "reply": "replying", "callback": "callback", "escalation": "escalated",
}
# Agent tasks that go to a shared pool rather than to the agent who took the request.
POOL_TASKS = {"callback"}
TICKET_FIELDS = ("channel", "caller_phone", "caller_name", "category", "urgency", "subject", "content",
                 "person_id", "department_id", "redispatch_count", "satisfaction", "reply")
TICKET_TIMES = ("first_handling_due_at", "accept_due_at", "handle_due_at")
TIMER_EVENTS = {"TimeDateEventDefinition", "DurationTimerEventDefinition"}


class BadMoment(ValueError):
    """A time the process data gives for a deadline is not a time with a zone: a manager's
    script wrote `'2026-03-02 09:00'` or `datetime(2026, 3, 2)`, or text that is no time at all."""

    def __init__(self, name: str, value) -> None:
        super().__init__(f"{name} = {value!r}")
        self.name = name
        self.value = value


def _moment(name: str, value) -> datetime:
    try:
        return parse_iso(value)
    except (TypeError, ValueError) as exc:
        raise BadMoment(name, value) from exc


def ready_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """The READY tasks of the process and its running subprocesses. A plain scan of the task
    maps: the library's tree iterator costs ten times as much, and a step asks several times."""
    found = [task for task in workflow.tasks.values() if task.state == TaskState.READY]
    for sub in workflow.subprocesses.values():
        found.extend(task for task in sub.tasks.values() if task.state == TaskState.READY)
    return found


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return [task for task in ready_tasks(workflow) if task.task_spec.manual]


def task_property(task: Task, name: str) -> str | None:
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {}).get(name)


def task_role(task: Task) -> str | None:
    lane = getattr(task.task_spec, "lane", None)
    return parse_role(lane) if lane else None


def current_data(workflow: BpmnWorkflow, ready: list[Task]) -> dict:
    if ready:
        return ready[0].data
    if workflow.last_task is not None:
        return workflow.last_task.data
    return workflow.data


def next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
    times = [parse_iso(event.value) for event in workflow.waiting_events()
             if event.event_type in TIMER_EVENTS and event.value]
    return min(times) if times else None


def _sync_ticket(ticket: TicketRow, workflow: BpmnWorkflow, ready: list[Task], data: dict) -> None:
    for name in TICKET_FIELDS:
        if name in data and getattr(ticket, name) != data[name]:
            setattr(ticket, name, data[name])
    for name in TICKET_TIMES:
        if data.get(name):
            setattr(ticket, name, _moment(name, data[name]))
    if ready:
        ticket.status = STATUS_BY_TASK.get(ready[0].task_spec.bpmn_id, ticket.status)
        ticket.current_step = "、".join(t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in ready)
    elif workflow.completed and ticket.status != "cancelled":
        ticket.status, ticket.current_step = "archived", None


def _sync_open_tasks(ticket: TicketRow, instance: dict, ready: list[Task], before: set[str],
                     writes: StepWrites, now: datetime) -> None:
    """`before`: the ready task ids when the step began — they are exactly the instance's open-task
    rows (this function put them there), so no query is needed to know what changed."""
    wanted = {str(task.id): task for task in ready}
    writes.open_tasks_gone |= before - set(wanted)
    for task_id, task in wanted.items():
        if task_id in before:
            continue  # keep its claim and its creation time
        role = task_role(task) or AGENT
        due_var = task_property(task, "due")
        due = task.data.get(due_var) if due_var else None
        name = task.task_spec.bpmn_id
        writes.open_tasks_added.append({
            "id": task_id, "instance_id": instance["id"], "ticket_id": ticket.id, "task_name": name,
            "title": task.task_spec.bpmn_name or name, "form": task_property(task, "form"), "role": role,
            "department_id": ticket.department_id if role == DEPT_HANDLER else None,
            "assignee_id": ticket.owner_id if role == AGENT and name not in POOL_TASKS else None,
            "due_at": _moment(due_var, due) if due else None, "created_at": now,
        })


def project(ticket: TicketRow, instance: dict, workflow: BpmnWorkflow, ready: list[Task], before: set[str],
            writes: StepWrites, now: datetime) -> None:
    """Bring the ticket row, the open-task rows and the instance's timer index in line with the
    workflow; `ready` is the workflow's ready user tasks after the step."""
    _sync_ticket(ticket, workflow, ready, current_data(workflow, ready))
    _sync_open_tasks(ticket, instance, ready, before, writes, now)
    instance["next_timer_at"] = None if workflow.completed else next_timer_at(workflow)
    if workflow.completed and instance["status"] == "running":
        instance["status"] = "completed"
