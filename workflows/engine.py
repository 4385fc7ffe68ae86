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
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import DeliveredMessage, OpenTask, ProcessInstance, SlaEvent, Ticket
from app.models.tickets import SLA_EVENTS
from workflows import audit_trail, clock, forms, projection, serialization, specs
from workflows.audit_trail import Actor
from workflows.numbering import next_ticket_number
from workflows.script_engine import make_script_engine
from workflows.sla import SlaPolicy, iso, parse_iso, script_helpers
from workflows.working_days import WorkingHours
from workflows.write_lock import begin_step

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

    ticket: Ticket
    instance: ProcessInstance
    workflow: BpmnWorkflow
    parsed: specs.ParsedVersion
    ready_before: set[str] | None = None  # the open-task rows when the step began
    fired: list[Task] = field(default_factory=list)

    def run_engine(self) -> None:
        def did_complete(task: Task) -> None:
            if task.task_spec.bpmn_id in SLA_EVENTS:
                self.fired.append(task)

        if _timer_due(self.workflow):
            self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=did_complete)
        # do_engine_steps refreshes timers only at its end: a timer that became due meanwhile
        # (a deadline re-armed in the past) has turned READY and needs one more pass.
        if any(not t.task_spec.manual for t in self.workflow.get_tasks(state=TaskState.READY)):
            self.workflow.do_engine_steps(did_complete_task=did_complete)
        _prune_finished_rounds(self.workflow)


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


def _save(step: Step, actor: Actor) -> None:
    """Project, audit the timer events that fired, store the state — still inside the transaction."""
    before_dept = step.ticket.department_id
    with db.session.no_autoflush:  # one flush at commit instead of one before every query
        projection.project(step.ticket, step.instance, step.workflow, step.ready_before)
    if step.ticket.department_id != before_dept:
        # A new round went to another department: re-point its open department tasks.
        for row in db.session.scalars(select(OpenTask).where(OpenTask.instance_id == step.instance.id,
                                                             OpenTask.department_id.is_not(None))):
            row.department_id = step.ticket.department_id
    for task in step.fired:
        _record_sla_event(step, task)
    now = clock.now()
    step.ticket.updated_at = now
    if step.ticket.status == "archived" and step.ticket.archived_at is None:
        step.ticket.archived_at = now
    step.instance.state = serialization.dump(step.workflow)
    step.instance.updated_at = now


def _record_sla_event(step: Step, task: Task) -> None:
    kind = task.task_spec.bpmn_id
    due = task._get_internal_data("event_value")
    db.session.add(SlaEvent(ticket_id=step.ticket.id, kind=kind, due_at=parse_iso(due) if due else None,
                            department_id=step.ticket.department_id, occurred_at=clock.now()))
    state = SLA_STATE_OF[kind]
    if SLA_SEVERITY[kind] >= SLA_SEVERITY.get(_kind_of(step.ticket.sla_state), 0):
        step.ticket.sla_state = state
    audit_trail.append(Actor.system("timer"), "timer.fire", ticket=step.ticket, task_name=kind,
                       summary=f"时限：{SLA_EVENTS[kind]}", data={"due_at": due}, at=clock.now())


def _kind_of(state: str) -> str:
    return {"warning": "handle_warning", "overdue": "handle_overdue", "major_event": "major_event"}.get(state, "ok")


class _Busy(Exception):
    """Another transaction holds the instance (the sweep skips it rather than wait)."""


def _cache_key(instance: ProcessInstance) -> tuple:
    return (instance.lock_version, instance.updated_at)


def _commit_and_keep(step: Step) -> None:
    """Commit, then keep the live workflow for this instance's next step in this process."""
    db.session.flush()
    key = _cache_key(step.instance)
    instance_id = step.instance.id
    db.session.commit()
    serialization.live.put(instance_id, key, step.workflow)


@contextmanager
def _locked_step(ticket_id: int, skip_locked: bool = False) -> Iterator[Step]:
    """Load a ticket's instance under a row lock, run the body, commit; any clash rolls back."""
    try:
        begin_step()
        row = db.session.execute(
            select(ProcessInstance, Ticket).join(Ticket, Ticket.id == ProcessInstance.ticket_id)
            .where(ProcessInstance.ticket_id == ticket_id)
            .with_for_update(of=ProcessInstance, skip_locked=skip_locked)).first()
        instance, ticket = row if row is not None else (None, None)
        if instance is None:
            if skip_locked and db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.ticket_id == ticket_id)):
                raise _Busy()
            raise StepRefused("工单不存在")
        parsed = specs.parsed_version(instance.version_id)
        workflow = serialization.live.take(instance.id, _cache_key(instance))
        if workflow is None:
            workflow = serialization.load(instance.state, parsed, instance.serializer_version)
            workflow.script_engine = script_engine()
        step = Step(ticket, instance, workflow, parsed,
                    ready_before={str(t.id) for t in projection.ready_user_tasks(workflow)})
        yield step
        _commit_and_keep(step)
    except (StaleDataError, IntegrityError, OperationalError) as exc:
        db.session.rollback()
        raise StepConflict("该工单刚刚已被他人处理，本次操作未生效，请刷新后查看最新状态。") from exc
    except WorkflowException as exc:
        db.session.rollback()
        raise StepRefused(f"流程执行出错，本次操作未生效：{exc}") from exc
    except BaseException:
        db.session.rollback()
        raise


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
    from app.models import Department

    if "department_id" in data:
        dept = db.session.get(Department, data["department_id"])
        if dept is None or not dept.active:
            raise StepRefused("表单填写有误，请按提示修改。", {"department_id": "承办部门不存在或已停用"})


def start_ticket(intake: dict, actor: Actor) -> Ticket:
    """Record a request (受理): a new ticket, its process instance, and the intake step done."""
    try:
        begin_step()
        step = _start(intake, actor)
        _commit_and_keep(step)
    except WorkflowException as exc:
        db.session.rollback()
        raise StepRefused(f"流程执行出错，工单未创建：{exc}") from exc
    except BaseException:
        db.session.rollback()
        raise
    return step.ticket


def _start(intake: dict, actor: Actor) -> Step:
    version = specs.latest_version()
    parsed = specs.parsed_version(version.id)
    now = clock.now()
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=script_engine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**_initial_data(iso(now)))
    workflow.do_engine_steps()
    ready = projection.ready_user_tasks(workflow)
    if len(ready) != 1 or projection.task_property(ready[0], "form") != "intake":
        raise StepRefused("流程的第一步不是受理，无法新建工单")
    data = _validated(parsed, ready[0], intake)
    ticket = Ticket(number=next_ticket_number(now), owner_id=actor.user_id, status="intake",
                    category=data["category"], subject=data["subject"], content=data["content"],
                    created_at=now, updated_at=now)
    db.session.add(ticket)
    db.session.flush()
    instance = ProcessInstance(ticket_id=ticket.id, version_id=version.id, status="running",
                               serializer_version=serialization.SERIALIZER_VERSION, state=b"", created_at=now)
    db.session.add(instance)
    db.session.flush()
    step = Step(ticket, instance, workflow, parsed, ready_before=set())
    ready[0].set_data(**data)
    ready[0].run()
    step.run_engine()
    ticket.first_handled_at = now if data.get("answered_on_spot") else None
    audit_trail.append(actor, "ticket.intake", ticket=ticket, task_name="intake",
                       summary=f"受理工单 {ticket.number}", data=data, at=now)
    _save(step, actor)
    return step


def complete_task(ticket_id: int, task_id: str, data: dict, actor: Actor, *, user=None) -> Ticket:
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
        audit_trail.append(actor, "task.complete", ticket=step.ticket, task_name=name,
                           summary=f"完成：{task.task_spec.bpmn_name or name}", data=values, at=clock.now())
        _save(step, actor)
        return step.ticket


def deliver_message(ticket_id: int, name: str, payload: dict, message_id: str, actor: Actor) -> str:
    """Deliver a BPMN message (e.g. the post-call survey's satisfaction) to a ticket's process.

    Returns "delivered", "not_waiting" (kept as a receipt, the process did not expect it now) or
    "duplicate" (this message id was seen before: nothing changes)."""
    with _locked_step(ticket_id) as step:
        seen = db.session.scalar(select(DeliveredMessage.id).where(
            DeliveredMessage.instance_id == step.instance.id, DeliveredMessage.message_id == message_id))
        if seen is not None:
            return "duplicate"
        try:
            step.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
            outcome = "delivered"
        except WorkflowException:
            outcome = "not_waiting"
        db.session.add(DeliveredMessage(instance_id=step.instance.id, message_id=message_id, name=name,
                                        outcome=outcome, received_at=clock.now()))
        if outcome == "delivered":
            step.run_engine()
        audit_trail.append(actor, "message.deliver", ticket=step.ticket, task_name=name,
                           summary=f"收到消息 {name}（{'已处理' if outcome == 'delivered' else '流程当前不等待此消息'}）",
                           data={"message_id": message_id, **payload}, at=clock.now())
        _save(step, actor)
        return outcome


def cancel_ticket(ticket_id: int, reason: str, actor: Actor) -> Ticket:
    """Withdraw a ticket (撤销, e.g. a duplicate): the process stops and its tasks leave every inbox."""
    if len(reason.strip()) < 2:
        raise StepRefused("请填写撤销原因。", {"reason": "撤销原因不能为空"})
    with _locked_step(ticket_id) as step:
        if step.instance.status != "running":
            raise StepRefused("工单已办结或已撤销。")
        step.workflow.cancel()
        step.instance.status = "cancelled"
        step.ticket.status, step.ticket.current_step = "cancelled", None
        db.session.execute(delete(OpenTask).where(OpenTask.instance_id == step.instance.id))
        audit_trail.append(actor, "ticket.cancel", ticket=step.ticket, summary="撤销工单",
                           data={"reason": reason}, at=clock.now())
        step.instance.next_timer_at = None
        step.instance.state = serialization.dump(step.workflow)
        step.instance.updated_at = clock.now()
        return step.ticket


def annotate(ticket_id: int, actor: Actor, action: str, summary: str, data: dict,
             apply: Callable[[Ticket], None]) -> Ticket:
    """Add something to a ticket that is not a workflow step (a note, an attachment, a 督办):
    under the same lock as a step, so the ticket's audit chain stays a single line."""
    with _locked_step(ticket_id) as step:
        apply(step.ticket)
        audit_trail.append(actor, action, ticket=step.ticket, summary=summary, data=data, at=clock.now())
        step.ticket.updated_at = clock.now()
        return step.ticket


def fire_due_timers(ticket_id: int) -> int | None:
    """Fire the timers of one ticket that are due by the engine clock; returns how many fired,
    or None when another transaction holds the ticket right now (try again on the next sweep)."""
    try:
        with _locked_step(ticket_id, skip_locked=True) as step:
            due = step.instance.next_timer_at
            if step.instance.status != "running" or due is None or due > clock.now():
                return 0  # someone else fired it meanwhile
            step.run_engine()
            _save(step, Actor.system("timer"))
            return len(step.fired)
    except _Busy:
        return None
