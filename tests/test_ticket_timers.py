"""Deadlines on the official working-day calendar, and the timer sweep that fires them —
with the clock frozen across the 2026 Spring Festival and its adjusted working Saturdays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ProcessInstance, SlaEvent, Ticket
from tests.loop import COMPLAINT, do, staff, task_names
from workflows import clock, serialization, specs
from workflows.sweep import sweep_due_timers

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def _sla_kinds(ticket) -> list[str]:
    return db.session.scalars(select(SlaEvent.kind).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)).all()


def _task_count(ticket) -> int:
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id))
    workflow = serialization.load(instance.state, specs.parsed_version(instance.version_id), instance.serializer_version)
    return len(workflow.get_tasks())


def test_a_complaint_dispatched_before_the_spring_festival_is_due_after_it(app):
    """Dispatched Thursday 12 Feb 2026 10:00: accept by 15:30 the same day (4 working hours, lunch
    excluded); handle within 5 working days — Fri 13, the adjusted working Saturday 14, then the
    holiday (15–23 Feb), Tue 24, Wed 25, Thu 26 → due 26 Feb 10:00; warning at 80 % of the working
    time (25 Feb 10:00); major event 5 working days later, counting the adjusted Saturday 28 Feb →
    4 March 10:00."""
    s = staff()
    with clock.frozen_at(local(2026, 2, 12, 10, 0)):
        ticket = engine_start(s)
        assert ticket.first_handling_due_at == local(2026, 2, 13, 10, 0)
        ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    assert ticket.accept_due_at == local(2026, 2, 12, 15, 30)
    assert ticket.handle_due_at == local(2026, 2, 26, 10, 0)
    instance = db.session.scalar(select(ProcessInstance))
    workflow = serialization.load(instance.state, specs.parsed_version(instance.version_id), instance.serializer_version)
    data = projection_data(workflow)
    assert datetime.fromisoformat(data["handle_warning_at"]) == local(2026, 2, 25, 10, 0)
    assert datetime.fromisoformat(data["handle_major_at"]) == local(2026, 3, 4, 10, 0)
    assert instance.next_timer_at == local(2026, 2, 12, 15, 30)  # the accept deadline comes first


def engine_start(s, **overrides) -> Ticket:
    from workflows import engine

    return engine.start_ticket({**COMPLAINT, **overrides}, s.agent)


def projection_data(workflow) -> dict:
    from workflows.projection import current_data, ready_user_tasks

    return current_data(workflow, ready_user_tasks(workflow))


def test_first_handling_is_due_on_the_adjusted_working_saturday(app):
    """工单初次处理时限: taken Friday 13 Feb 2026 16:00, it must be handled within 1 working day —
    by Saturday 14 Feb 16:00, an adjusted working day (调休). The sweep at 16:01 records the breach."""
    s = staff()
    with clock.frozen_at(local(2026, 2, 13, 16, 0)):
        ticket = engine_start(s)
    assert ticket.first_handling_due_at == local(2026, 2, 14, 16, 0)
    with clock.frozen_at(local(2026, 2, 14, 15, 59)):
        assert sweep_due_timers()["fired"] == 0
    with clock.frozen_at(local(2026, 2, 14, 16, 1)):
        assert sweep_due_timers() == {"instances": 1, "fired": 1, "busy": 0, "failed": 0}
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert _sla_kinds(ticket) == ["dispatch_overdue"] and ticket.sla_state == "overdue"
    assert task_names(ticket) == ["dispatch"]  # the breach is recorded; the task stays with the agent


def test_warning_overdue_and_major_event_fire_once_each_and_the_tree_stays_bounded(app):
    """The department sits on a ticket: the sweep raises the warning, then overdue, then the
    major event (5 working days past the deadline) — each once, however often the sweep runs."""
    s = staff()
    with clock.frozen_at(local(2026, 2, 12, 10, 0)):
        ticket = engine_start(s)
        ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
        ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    size = _task_count(ticket)
    moments = [(local(2026, 2, 25, 10, 1), ["handle_warning"], "warning"),
               (local(2026, 2, 26, 10, 1), ["handle_warning", "handle_overdue"], "overdue"),
               (local(2026, 3, 4, 9, 59), ["handle_warning", "handle_overdue"], "overdue"),
               (local(2026, 3, 4, 10, 1), ["handle_warning", "handle_overdue", "major_event"], "major_event")]
    for moment, kinds, state in moments:
        with clock.frozen_at(moment):
            for _ in range(3):
                sweep_due_timers()
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket.id)
        assert _sla_kinds(ticket) == kinds and ticket.sla_state == state
    assert task_names(ticket) == ["department_handle"]
    assert _task_count(ticket) <= size + 6  # three fired boundary events and their end events
    assert db.session.scalar(select(ProcessInstance.next_timer_at)) is None
    fired = db.session.scalars(select(AuditEntry.task_name).where(AuditEntry.action == "timer.fire")).all()
    assert fired == ["handle_warning", "handle_overdue", "major_event"]
    with clock.frozen_at(local(2026, 3, 20, 10, 0)):
        assert sweep_due_timers()["instances"] == 0


def test_returning_on_time_clears_the_pending_timers(app):
    s = staff()
    with clock.frozen_at(local(2026, 2, 12, 10, 0)):
        ticket = engine_start(s)
        ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
        ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
        ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已办结"}, s.handler)
    assert db.session.scalar(select(ProcessInstance.next_timer_at)) is None
    with clock.frozen_at(local(2026, 3, 20, 10, 0)):
        assert sweep_due_timers()["fired"] == 0
    assert _sla_kinds(ticket) == []


def test_the_worker_schedule_sweeps_due_timers_through_rq(app):
    """Every worker process offers the periodic sweep, but Redis lets only one enqueue per interval;
    an rq worker then runs it and the overdue ticket gets its SLA event."""
    from rq import Queue, SimpleWorker

    from app.redis_client import get_redis
    from worker.schedule import periodic_jobs
    from worker.scheduler import enqueue_due

    s = staff()
    with clock.frozen_at(local(2026, 2, 13, 16, 0)):
        ticket = engine_start(s)
    connection = get_redis()
    jobs = [job for job in periodic_jobs(app.config) if job.func == "worker.jobs.sweep_timers"]
    assert enqueue_due(connection, jobs) == ["worker.jobs.sweep_timers"]
    assert enqueue_due(connection, jobs) == []  # a second worker within the same interval
    queue = Queue("default", connection=connection)
    assert queue.count == 1
    with clock.frozen_at(local(2026, 2, 14, 16, 1)):
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert queue.count == 0
    assert _sla_kinds(ticket) == ["dispatch_overdue"]
