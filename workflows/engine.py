"""How a step is taken. Each public function is one database transaction: the workflow state,
the ticket row, the open-task rows and the audit entries commit together or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from uuid import UUID

from flask import current_app
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import DeliveredMessage
from app.models.tickets import SLA_EVENTS
from workflows import audit_trail, clock, forms, projection, serialization, specs, step_store
from workflows.audit_trail import Actor
from workflows.script_engine import make_script_engine
from workflows.sla import SlaPolicy, iso, parse_iso, script_helpers
from workflows.step_store import StepWrites, TicketRow
from workflows.working_days import WorkingHours
from workflows.write_lock import take_write_lock

SLA_SEVERITY = {"ok": 0, "handle_warning": 1, "accept_overdue": 1, "dispatch_overdue": 1, "handle_overdue": 2,
                "major_event": 3}
SLA_STATE_OF = {"handle_warning": "warning", "accept_overdue": "overdue", "dispatch_overdue": "overdue",
                "handle_overdue": "overdue", "major_event": "major_event"}


class StepRefused(Exception):
    """The step was not taken; `message` (Chinese) says why, `errors` names form fields."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class StepConflict(StepRefused):
    """Someone else changed the ticket first; nothing of this step was kept."""


def policy() -> SlaPolicy:
    cfg = current_app.config
    return SlaPolicy(
        hours=WorkingHours.parse(cfg["WORKING_HOURS"], cfg["DISPLAY_TIMEZONE"]),
        warning_share=cfg["SLA_WARNING_SHARE"],
    )


@lru_cache(maxsize=8)
def _script_engine(sla_policy: SlaPolicy, time_limit: float):
    return make_script_engine(helpers=script_helpers(sla_policy), time_limit=time_limit)


def script_engine():
    return _script_engine(policy(), current_app.config["SCRIPT_TIME_LIMIT"])


@dataclass
class Step:
    """A loaded instance while a step runs, and what happened during it."""

    ticket: TicketRow
    instance: dict
    workflow: BpmnWorkflow
    parsed: specs.ParsedVersion
    ready_before: set[str]  # the open-task rows when the step began
    fired: list[Task] = field(default_factory=list)
    writes: StepWrites = field(default_factory=StepWrites)

    def run_engine(self) -> None:
        def did_complete(task: Task) -> None:
            if task.task_spec.bpmn_id in SLA_EVENTS:
                self.fired.append(task)

        if _timer_due(self.workflow):
            self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=did_complete)
        # do_engine_steps refreshes timers only at its end: a timer that became due meanwhile
        # (a deadline re-armed in the past) has turned READY and needs one more pass.
        if any(not t.task_spec.manual for t in projection.ready_tasks(self.workflow)):
            self.workflow.do_engine_steps(did_complete_task=did_complete)
        _prune_finished_rounds(self.workflow)

    def audit(self, actor: Actor, action: str, **fields) -> None:
        self.writes.audit_entries.append(audit_trail.entry_values(actor, action, ticket=self.ticket, **fields))


def _timer_due(workflow: BpmnWorkflow) -> bool:
    now = clock.now()
    return any(event.event_type in projection.TIMER_EVENTS and event.value and parse_iso(event.value) <= now
               for event in workflow.waiting_events())


def _prune_finished_rounds(workflow: BpmnWorkflow) -> None:
    """Drop finished handling rounds: the audit trail keeps their history, and a ticket
    re-dispatched 50 times should not carry 50 rounds of engine state."""
    for task_id, sub in list(workflow.subprocesses.items()):
        if sub.completed:
            parent = workflow.get_task_from_id(task_id)
            if parent is not None and parent.state == TaskState.COMPLETED:
                workflow.delete_subprocess(parent)


def _initial_data(now_iso: str) -> dict:
    pol = policy()
    # answered_on_spot defaults to "no": an intake form may leave it out, the gateway still decides.
    return {"intake_at": now_iso, "answered_on_spot": False, "first_handling_days": pol.first_handling_days,
            "max_callback_attempts": pol.max_callback_attempts,
            "escalate_after_redispatches": pol.escalate_after_redispatches}


def _project(step: Step) -> None:
    """Project the workflow onto the ticket and open-task rows and audit the timers that fired."""
    now = clock.now()
    before_dept = step.ticket.department_id
    ready = projection.ready_user_tasks(step.workflow)
    projection.project(step.ticket, step.instance, step.workflow, ready, step.ready_before, step.writes, now)
    if step.ticket.department_id != before_dept and step.ready_before:
        # A new round went to another department: re-point its open department tasks.
        step.writes.department_moved_to = step.ticket.department_id
    for task in step.fired:
        _record_sla_event(step, task, now)
    step.ticket.updated_at = now
    if step.ticket.status == "archived" and step.ticket.archived_at is None:
        step.ticket.archived_at = now
    step.ticket.open_tasks = [(str(t.id), t.task_spec.bpmn_id) for t in ready]
    setattr(step.workflow, _READY_ATTR, {task_id for task_id, _name in step.ticket.open_tasks})


def _record_sla_event(step: Step, task: Task, now) -> None:
    kind = task.task_spec.bpmn_id
    due = task._get_internal_data("event_value")
    step.writes.sla_events.append({"ticket_id": step.ticket.id, "kind": kind, "due_at": parse_iso(due) if due else None,
                                   "department_id": step.ticket.department_id, "occurred_at": now})
    state = SLA_STATE_OF[kind]
    if SLA_SEVERITY[kind] >= SLA_SEVERITY.get(_kind_of(step.ticket.sla_state), 0):
        step.ticket.sla_state = state
    step.audit(Actor.system("timer"), "timer.fire", task_name=kind, summary=f"时限：{SLA_EVENTS[kind]}",
               data={"due_at": due}, at=now)


def _kind_of(state: str) -> str:
    return {"warning": "handle_warning", "overdue": "handle_overdue", "major_event": "major_event"}.get(state, "ok")


class _Busy(Exception):
    """Another transaction holds the instance (the sweep skips it rather than wait)."""


class _NothingToDo(Exception):
    """The step has nothing to change (a repeated message, a timer fired meanwhile): roll back."""


_READY_ATTR = "_hotline_ready_ids"
_CONFLICT = "该工单刚刚已被他人处理，本次操作未生效，请刷新后查看最新状态。"


def _cache_key(instance: dict) -> tuple:
    return (instance["lock_version"], instance["updated_at"])


def _commit_and_keep(step: Step) -> None:
    """Write the step, commit, then keep the live workflow for this instance's next step in this process."""
    now = clock.now()
    state = serialization.dump(step.workflow)
    if not step_store.save(step.instance, state, step.ticket, step.writes, now):
        raise StepConflict(_CONFLICT)
    db.session.commit()
    step.ticket.freeze()
    serialization.live.put(step.instance["id"], _cache_key(step.instance), step.workflow)


def _workflow_of(instance: dict, parsed: specs.ParsedVersion) -> BpmnWorkflow:
    workflow = serialization.live.take(instance["id"], _cache_key(instance))
    if workflow is None:
        workflow = serialization.load(step_store.stored_state(instance["id"]), parsed, instance["serializer_version"])
        workflow.script_engine = script_engine()
    return workflow


@contextmanager
def _step_transaction(what: str) -> Iterator[None]:
    """Roll back on any failure, translating the database's and the engine's refusals."""
    try:
        take_write_lock()
        yield
    except (IntegrityError, OperationalError) as exc:
        db.session.rollback()
        raise StepConflict(_CONFLICT) from exc
    except WorkflowException as exc:
        db.session.rollback()
        raise StepRefused(f"流程执行出错，{what}：{exc}") from exc
    except projection.BadMoment as exc:
        db.session.rollback()
        raise StepRefused(f"流程数据中的时限 {exc.name} 不是带时区的时间（{exc.value!r}），{what}。"
                          "请在流程设计中用 add_working_days 等函数计算时限。") from exc
    except serialization.UnsavableValue as exc:
        db.session.rollback()
        raise StepRefused(f"流程脚本在数据中留下了无法保存的值（{exc.type_name} 类型），{what}。"
                          "请在流程设计中改用文字、数字或 datetime 日期时间。") from exc
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def _locked_step(ticket_id: int, skip_locked: bool = False) -> Iterator[Step]:
    """Load a ticket's instance under a row lock, run the body, write and commit; any clash rolls back."""
    with _step_transaction("本次操作未生效"):
        loaded = step_store.lock(ticket_id, skip_locked=skip_locked)
        if loaded is None:
            if skip_locked and step_store.exists(ticket_id):
                raise _Busy()
            raise StepRefused("工单不存在")
        instance, ticket = loaded
        parsed = specs.parsed_version(instance["version_id"])
        workflow = _workflow_of(instance, parsed)
        ready = getattr(workflow, _READY_ATTR, None)  # kept by the step that cached the workflow
        if ready is None:
            ready = {str(t.id) for t in projection.ready_user_tasks(workflow)}
        step = Step(ticket, instance, workflow, parsed, ready_before=ready)
        yield step
        _commit_and_keep(step)


def _ready_user_task(step: Step, task_id: str) -> Task | None:
    if task_id not in (step.ready_before or set()):
        return None
    task = step.workflow.get_task_from_id(UUID(task_id))
    return task if task is not None and task.state == TaskState.READY and task.task_spec.manual else None


def _validated(parsed: specs.ParsedVersion, task: Task, data: dict) -> dict:
    form_name = projection.task_property(task, "form")
    if form_name is None:
        return {}
    schema = parsed.forms.get(form_name)
    if schema is None:
        raise StepRefused(f"任务“{task.task_spec.bpmn_name}”引用的表单 {form_name} 不存在")
    try:
        return forms.validate(schema, data)
    except forms.FormInvalid as exc:
        raise StepRefused("表单填写有误，请按提示修改。", exc.errors) from exc


def _check_domain(task: Task, data: dict) -> None:
    if "department_id" in data:
        if not step_store.department_active(data["department_id"]):
            raise StepRefused("表单填写有误，请按提示修改。", {"department_id": "承办部门不存在或已停用"})


def start_ticket(intake: dict, actor: Actor, also: Callable[[int], None] | None = None) -> TicketRow:
    """Record a request (受理): a new ticket, its process instance, and the intake step done.
    `also(ticket_id)` adds rows that must exist exactly when the ticket does (another system's
    reference to it) to the same transaction; a unique clash there rolls the ticket back too."""
    with _step_transaction("工单未创建"):
        step = _start(intake, actor)
        if also is not None:
            also(step.ticket.id)
            db.session.flush()
        _commit_and_keep(step)
    return step.ticket


def _start(intake: dict, actor: Actor) -> Step:
    version_id = specs.latest_version_id()
    parsed = specs.parsed_version(version_id)
    now = clock.now()
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=script_engine())
    for task in projection.ready_tasks(workflow):
        task.set_data(**_initial_data(iso(now)))
    workflow.do_engine_steps()
    ready = projection.ready_user_tasks(workflow)
    if len(ready) != 1 or projection.task_property(ready[0], "form") != "intake":
        raise StepRefused("流程的第一步不是受理，无法新建工单")
    data = _validated(parsed, ready[0], intake)
    values = {name: None for name in step_store.TICKET_FIELDS if name not in ("id", "number")}
    values.update(channel="phone", urgency="normal", owner_id=actor.user_id, status="intake",
                  category=data["category"], subject=data["subject"], content=data["content"],
                  redispatch_count=0, sla_state="ok", created_at=now, updated_at=now)
    instance = {"version_id": version_id, "status": "running", "serializer_version": serialization.SERIALIZER_VERSION,
                "next_timer_at": None, "lock_version": 1, "updated_at": now}
    values["id"], values["number"], instance["id"] = step_store.create(
        values, {**instance, "state": b"", "created_at": now}, now)
    instance["ticket_id"] = values["id"]
    step = Step(step_store.TicketRow(values), instance, workflow, parsed, ready_before=set())
    ready[0].set_data(**data)
    ready[0].run()
    step.run_engine()
    step.ticket.first_handled_at = now if data.get("answered_on_spot") else None
    step.audit(actor, "ticket.intake", task_name="intake", summary=f"受理工单 {step.ticket.number}", data=data, at=now)
    _project(step)
    return step


def complete_task(ticket_id: int, task_id: str, data: dict, actor: Actor, *, user=None) -> TicketRow:
    """Complete one user task with validated form data, as `actor` in one of their roles."""
    with _locked_step(ticket_id) as step:
        task = _ready_user_task(step, task_id)
        if task is None:
            raise StepConflict("该任务已被他人处理或已不存在，请刷新后查看最新状态。")
        role = projection.task_role(task)
        if role and actor.role != role:
            raise StepRefused("您当前的角色不能办理此任务。")
        if user is not None and role == "dept_handler":
            from app.auth.scope import may_see_department

            if not may_see_department(user, step.ticket.department_id):
                raise StepRefused("该工单不属于您所在的部门。")
        values = _validated(step.parsed, task, data)
        _check_domain(task, values)
        name = task.task_spec.bpmn_id
        task.set_data(**values)
        task.run()
        step.run_engine()
        if name == "dispatch" and step.ticket.first_handled_at is None:
            step.ticket.first_handled_at = clock.now()
        if name == "department_handle" and values.get("handle_action") == "return":
            step.ticket.sla_state = "ok"
        step.audit(actor, "task.complete", task_name=name, summary=f"完成：{task.task_spec.bpmn_name or name}",
                   data=values, at=clock.now())
        _project(step)
    return step.ticket


def deliver_message(ticket_id: int, name: str, payload: dict, message_id: str, actor: Actor) -> str:
    """Deliver a BPMN message (e.g. the post-call survey's satisfaction) to a ticket's process.

    Returns "delivered", "not_waiting" (kept as a receipt, the process did not expect it now) or
    "duplicate" (this message id was seen before: nothing changes)."""
    try:
        return _deliver(ticket_id, name, payload, message_id, actor)
    except _NothingToDo:
        return "duplicate"


def _deliver(ticket_id: int, name: str, payload: dict, message_id: str, actor: Actor) -> str:
    with _locked_step(ticket_id) as step:
        seen = db.session.scalar(select(DeliveredMessage.id).where(
            DeliveredMessage.instance_id == step.instance["id"], DeliveredMessage.message_id == message_id))
        if seen is not None:
            raise _NothingToDo()
        try:
            step.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
            outcome = "delivered"
        except WorkflowException:
            outcome = "not_waiting"
        step.writes.receipts.append({"instance_id": step.instance["id"], "message_id": message_id, "name": name,
                                     "outcome": outcome, "received_at": clock.now()})
        if outcome == "delivered":
            step.run_engine()
        step.audit(actor, "message.deliver", task_name=name,
                   summary=f"收到消息 {name}（{'已处理' if outcome == 'delivered' else '流程当前不等待此消息'}）",
                   data={"message_id": message_id, **payload}, at=clock.now())
        _project(step)
    return outcome


def cancel_ticket(ticket_id: int, reason: str, actor: Actor) -> TicketRow:
    """Withdraw a ticket (撤销, e.g. a duplicate): the process stops and its tasks leave every inbox."""
    if len(reason.strip()) < 2:
        raise StepRefused("请填写撤销原因。", {"reason": "撤销原因不能为空"})
    with _locked_step(ticket_id) as step:
        if step.instance["status"] != "running":
            raise StepRefused("工单已办结或已撤销。")
        step.workflow.cancel()
        step.instance["status"], step.instance["next_timer_at"] = "cancelled", None
        step.ticket.status, step.ticket.current_step = "cancelled", None
        step.ticket.updated_at = clock.now()
        step.writes.all_open_tasks_gone = True
        setattr(step.workflow, _READY_ATTR, set())
        step.audit(actor, "ticket.cancel", summary="撤销工单", data={"reason": reason}, at=clock.now())
    return step.ticket


def annotate(ticket_id: int, actor: Actor, action: str, summary: str, data: dict,
             apply: Callable[[TicketRow], None]) -> TicketRow:
    """Add something to a ticket that is not a workflow step (a note, an attachment, a 督办):
    under the same lock as a step, so the ticket's audit chain stays a single line. The workflow
    is not touched, so its state is neither loaded nor written."""
    with _step_transaction("本次操作未生效"):
        loaded = step_store.lock(ticket_id)
        if loaded is None:
            raise StepRefused("工单不存在")
        instance, ticket = loaded
        apply(ticket)
        writes = StepWrites()
        writes.audit_entries.append(audit_trail.entry_values(actor, action, ticket=ticket, summary=summary,
                                                             data=data, at=clock.now()))
        ticket.updated_at = clock.now()
        step_store.write_rows(instance["id"], ticket, writes)
        db.session.commit()
        ticket.freeze()
    return ticket


def fire_due_timers(ticket_id: int) -> int | None:
    """Fire the timers of one ticket that are due by the engine clock; returns how many fired,
    or None when another transaction holds the ticket right now (try again on the next sweep)."""
    try:
        with _locked_step(ticket_id, skip_locked=True) as step:
            due = step.instance["next_timer_at"]
            if step.instance["status"] != "running" or due is None or due > clock.now():
                raise _NothingToDo()  # someone else fired it meanwhile
            step.run_engine()
            _project(step)
    except _Busy:
        return None
    except _NothingToDo:
        return 0
    return len(step.fired)
