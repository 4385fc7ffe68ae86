"""The engine's guarantees: one winner among concurrent completions, restart safety, version
pinning, unique numbers, the script sandbox, and the tamper-evident audit chain."""

from __future__ import annotations

import json
import zlib
from datetime import datetime

import lz4.frame
import pytest
from sqlalchemy import delete, func, select, text, update

from app.extensions import db
from app.models import AuditEntry, OpenTask, ProcessInstance, ProcessVersion, Ticket, TicketSequence
from tests.concurrency import in_threads
from tests.loop import COMPLAINT, do, handled_round, staff, task_names, tasks
from workflows import engine, serialization, specs
from workflows.audit_trail import verify


def test_two_agents_completing_the_same_task_at_once_exactly_one_wins(app):
    """Both press 派单 at the same moment: one dispatch happens, the other gets a clear Chinese
    message and changes nothing."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    [task] = tasks(ticket)
    ticket_id, task_id = ticket.id, task.id
    db.session.remove()
    depts = [s.dept_id, s.other_dept_id]
    results = in_threads(
        app, 2, lambda i: engine.complete_task(ticket_id, task_id, {"department_id": depts[i]}, s.agent).id)
    wins = [r for r in results if r == ticket_id]
    losses = [r for r in results if isinstance(r, engine.StepConflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "已被他人处理" in losses[0].message
    ticket = db.session.get(Ticket, ticket_id)
    assert task_names(ticket) == ["department_accept"]
    dispatches = db.session.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.task_name == "dispatch"))
    assert dispatches == 1 and verify().ok


def test_ticket_numbers_stay_unique_when_agents_record_at_the_same_moment(app):
    s = staff()
    db.session.remove()
    results = in_threads(app, 6, lambda i: engine.start_ticket(COMPLAINT, s.agent).number)
    assert all(isinstance(r, str) for r in results), results
    assert sorted(int(n.split("-")[1]) for n in results) == [1, 2, 3, 4, 5, 6]


def test_the_ten_thousandth_ticket_of_a_day_keeps_a_readable_number(app):
    """A busy day passes 9999 tickets: the number grows a digit instead of being cut to four."""
    s = staff()
    first = engine.start_ticket(COMPLAINT, s.agent).number
    day = first.split("-")[0]
    assert first == f"{day}-0001"
    db.session.execute(update(TicketSequence).values(last_value=9998))
    db.session.commit()
    assert engine.start_ticket(COMPLAINT, s.agent).number == f"{day}-9999"
    assert engine.start_ticket(COMPLAINT, s.agent).number == f"{day}-10000"


def test_a_restart_mid_loop_resumes_from_the_stored_state(app):
    """The platform restarts while a department is handling: every cache is gone, the state is
    reloaded from the database and the loop finishes."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    _restart()
    ticket = db.session.get(Ticket, ticket.id)
    assert task_names(ticket) == ["department_handle"]
    assert _archived_after_handling(ticket, s).status == "archived"


def _archived_after_handling(ticket: Ticket, s) -> Ticket:
    """The department returns its result, the agent accepts it and replies, the citizen is satisfied."""
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已办结"}, s.handler)
    ticket = do(ticket, "return_review", {"review_decision": "accept"}, s.agent)
    ticket = do(ticket, "reply", {"reply": "已为您办结"}, s.agent)
    return do(ticket, "callback", {"satisfaction": "satisfied"}, s.agent)


def _restart() -> None:
    """What a restart of every process loses: parsed versions, live workflows, the script engine
    and the database connections."""
    specs._parsed.clear()
    serialization.live.clear()
    engine._script_engine.cache_clear()
    db.session.remove()
    db.engine.dispose()


def test_dates_a_manager_s_script_keeps_in_task_data_are_dates_again_after_a_restart(app):
    """A manager's diagram keeps a follow-up date (a datetime, reached with a timedelta) in the
    ticket's data at intake and uses it as a date when the ticket is archived. The platform
    restarts in between: the reloaded state gives back a datetime, not its text, and the loop
    finishes."""
    s = staff()
    specs.publish("ticket", _files_with_all({
        "redispatch_count = 0\n": "redispatch_count = 0\nrecorded_at = datetime(2026, 3, 2, 9, 0)\n"
                                   "grace = timedelta(days=2)\nfollow_up_by = recorded_at + grace\n",
        "<bpmn:script>archived = True</bpmn:script>":
            "<bpmn:script>archived = True\nfollow_up_weekday = follow_up_by.weekday()\n"
            "grace_hours = grace.days * 24</bpmn:script>"}), note="归档时核对回访日期")
    db.session.commit()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    _restart()
    ticket = do(db.session.get(Ticket, ticket.id), "department_accept", {"accept_decision": "accept"}, s.handler)
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已按期回访"}, s.handler)
    ticket = do(ticket, "return_review", {"review_decision": "accept"}, s.agent)
    ticket = do(ticket, "reply", {"reply": "已为您办结"}, s.agent)
    _restart()
    ticket = do(db.session.get(Ticket, ticket.id), "callback", {"satisfaction": "satisfied"}, s.agent)
    assert ticket.status == "archived"
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id))
    workflow = serialization.load(instance.state, specs.parsed_version(instance.version_id),
                                  instance.serializer_version)
    [archive] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "archive"]
    assert archive.data["follow_up_by"] == datetime(2026, 3, 4, 9, 0)
    assert archive.data["follow_up_weekday"] == 2  # a Wednesday, worked out from the reloaded date
    assert archive.data["grace_hours"] == 48


def test_a_script_that_keeps_a_value_the_state_cannot_hold_is_refused_and_nothing_is_written(app):
    """A script leaves a bare `date` in the ticket's data, which the state has no form for: the
    agent gets a Chinese message naming the type, and no ticket or audit entry is written."""
    message = _intake_refused_on(_files_with("redispatch_count = 0\n",
                                             "redispatch_count = 0\nfollow_up_day = datetime(2026, 3, 2).date()\n"))
    assert "无法保存的值（date 类型）" in message


def test_a_script_that_writes_a_deadline_without_a_time_zone_is_refused_and_nothing_is_written(app):
    """A manager's script sets the first-handling deadline as bare text with no time zone: the
    inboxes could not order it, so the step is refused with a Chinese message naming the field."""
    message = _intake_refused_on(_files_with(
        "first_handling_due_at = add_working_days(intake_at, first_handling_days)",
        "first_handling_due_at = '2026-03-02 09:00'"))
    assert "first_handling_due_at" in message and "时区" in message


def test_a_ticket_whose_state_an_earlier_release_wrote_with_zlib_goes_on(app):
    """States are written as LZ4 frames now; a ticket a department was handling when the site
    upgraded still has its zlib state, and its loop finishes."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id))
    assert instance.state[:4] == b"\x04\x22\x4d\x18"  # an LZ4 frame
    text = lz4.frame.decompress(instance.state)
    instance.state = zlib.compress(text, 1)
    db.session.commit()
    serialization.live.clear()
    ticket = do(db.session.get(Ticket, ticket.id), "department_accept", {"accept_decision": "accept"}, s.handler)
    assert task_names(ticket) == ["department_handle"]
    assert _archived_after_handling(ticket, s).status == "archived"


OPEN_TICKETS = 5000  # a big city's hotline has thousands of tickets open at any time


def _copies_waiting_for_dispatch(ticket_id: int, count: int) -> None:
    """`count` copies of a ticket waiting for dispatch, with its instance and open task, made by
    the database itself: the tables then hold what a running site's hold, in a second."""
    def columns(model, leave_out: tuple[str, ...], alias: str) -> tuple[str, str]:
        names = [c.name for c in model.__table__.columns if c.name not in leave_out]
        return ", ".join(names), ", ".join(f"{alias}.{name}" for name in names)

    ticket_names, ticket_values = columns(Ticket, ("id", "number"), "t")
    instance_names, instance_values = columns(ProcessInstance, ("id", "ticket_id"), "p")
    task_names_, task_values = columns(OpenTask, ("id", "instance_id", "ticket_id"), "o")
    copies = "SELECT id FROM ticket WHERE number LIKE 'COPY-%'"
    db.session.execute(text(
        f"INSERT INTO ticket ({ticket_names}, number) SELECT {ticket_values}, 'COPY-' || g "  # noqa: S608 - model columns
        "FROM ticket t, generate_series(1, :count) g WHERE t.id = :id"), {"id": ticket_id, "count": count})
    db.session.execute(text(
        f"INSERT INTO process_instance ({instance_names}, ticket_id) SELECT {instance_values}, c.id "  # noqa: S608
        f"FROM process_instance p, ({copies}) c WHERE p.ticket_id = :id"), {"id": ticket_id})
    db.session.execute(text(
        f"INSERT INTO open_task (id, instance_id, ticket_id, {task_names_}) "  # noqa: S608
        f"SELECT gen_random_uuid()::text, p.id, p.ticket_id, {task_values} FROM open_task o, process_instance p "
        f"WHERE o.ticket_id = :id AND p.ticket_id IN ({copies})"), {"id": ticket_id})
    db.session.commit()


def test_a_busy_hotline_does_not_make_the_database_plan_every_step_afresh(app):
    """Dispatching ticket after ticket: each dispatch writes with the same statement, which
    PostgreSQL plans once per connection and then reuses (a generic plan), instead of planning
    it again at every step. Planning it each time cost the server a quarter of its CPU."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements and their plans are PostgreSQL's (CI runs this on PostgreSQL)")
    s = staff()
    waiting = [engine.start_ticket(COMPLAINT, s.agent) for _ in range(15)]
    _copies_waiting_for_dispatch(waiting[0].id, OPEN_TICKETS)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))  # as autovacuum would on a site that has been running
    db.session.remove()
    db.engine.dispose()  # one connection, so every step below runs on it
    for ticket in waiting:
        do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    plans = db.session.execute(text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE 'WITH i AS (UPDATE process_instance%' AND statement LIKE '%DELETE FROM open_task%'")).all()
    assert plans, "the dispatch step's statement was never prepared"
    assert sum(generic for generic, _custom in plans) > 0, plans


def _intake_refused_on(files: dict[str, str]) -> str:
    """Publish a manager's changed diagram and record a complaint on it: the intake must be
    refused with nothing written (no ticket, no audit entry). Returns the agent's message."""
    s = staff()
    specs.publish("ticket", files)
    db.session.commit()
    with pytest.raises(engine.StepRefused) as refused:
        engine.start_ticket(COMPLAINT, s.agent)
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.seq))) == 0
    return refused.value.message


def _files_with(old: str, new: str) -> dict[str, str]:
    return _files_with_all({old: new})


def _files_with_all(replacements: dict[str, str]) -> dict[str, str]:
    files = specs.bundled_files()
    for old, new in replacements.items():
        assert old in files["ticket.bpmn"]
        files["ticket.bpmn"] = files["ticket.bpmn"].replace(old, new)
    return files


def test_running_tickets_keep_their_version_and_new_ones_take_the_latest(app):
    s = staff()
    old = engine.start_ticket(COMPLAINT, s.agent)
    specs.publish("ticket", _files_with('<bpmn:userTask id="callback" name="回访">',
                                        '<bpmn:userTask id="callback" name="电话回访">'), note="改名")
    db.session.commit()
    new = engine.start_ticket(COMPLAINT, s.agent)
    versions = dict(db.session.execute(select(ProcessInstance.ticket_id, ProcessInstance.version_id)).all())
    assert versions[old.id] != versions[new.id]
    assert db.session.scalar(select(func.max(ProcessVersion.version))) == 2
    old = handled_round(old, s)
    new = handled_round(new, s)
    assert [t.title for t in tasks(old)] == ["回访"]
    assert [t.title for t in tasks(new)] == ["电话回访"]


def test_publishing_the_same_files_twice_makes_no_new_version(app):
    first = specs.latest_version()
    again = specs.publish("ticket", specs.bundled_files())
    assert again.id == first.id


def test_a_script_that_imports_os_is_stopped_and_no_ticket_is_written(app):
    """A manager's diagram whose script tries `import os` never runs it: the step is refused."""
    assert "import" in _intake_refused_on(_files_with("redispatch_count = 0\n", "import os\nredispatch_count = 0\n"))


def test_a_script_that_never_ends_is_stopped(app):
    message = _intake_refused_on(_files_with("redispatch_count = 0\n", "while True:\n    pass\nredispatch_count = 0\n"))
    assert "超过" in message


def _chain_with_entries():
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    handled_round(ticket, s)
    assert verify().ok and verify().checked == 6


def test_editing_an_audit_entry_is_detected(app):
    _chain_with_entries()
    with db.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(summary="完成：签收（已篡改）"))
    report = verify()
    number = db.session.scalar(select(Ticket.number))
    assert not report.ok and report.problems == [f"工单 {number}：第 3 条记录的内容与哈希不符（被修改）"]


def test_deleting_an_audit_entry_is_detected(app):
    _chain_with_entries()
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = verify()
    number = db.session.scalar(select(Ticket.number))
    assert report.problems == [f"工单 {number}：第 3 条记录的前序哈希不符（其前一条被修改或删除）"]


def test_cutting_the_tail_of_the_chain_is_detected_by_the_cli(app):
    _chain_with_entries()
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 6))
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "链尾与记录不符（末尾记录被删除或修改）" in result.output


def test_the_cli_confirms_an_intact_chain(app):
    _chain_with_entries()
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "审计链完整：共校验 6 条记录" in result.output


def test_audit_data_records_what_was_submitted(app):
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    do(ticket, "dispatch", {"department_id": s.dept_id, "instructions": "请核查"}, s.agent)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.task_name == "dispatch"))
    assert json.loads(entry.data_json) == {"department_id": s.dept_id, "instructions": "请核查"}
    last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert db.session.scalar(select(Ticket.audit_hash)) == last.hash
    assert db.session.execute(text("SELECT count(*) FROM audit_head")).scalar() == 0  # no global lock taken


def test_deleting_a_tickets_whole_trail_is_detected(app):
    _chain_with_entries()
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry))
    number = db.session.scalar(select(Ticket.number))
    assert verify().problems == [f"工单 {number}：全部审计记录缺失（被删除）"]
