"""Benchmark: N tickets through the whole closed loop, engine alone vs. the full stack.

    .venv/bin/python bench/ticket_loop.py [--tickets N] [--processes P]

Engine alone: the same BPMN and restricted script engine, in memory, no database. Full stack:
the platform's engine API on DATABASE_URL (SQLite in a temp folder when unset) — persistence
of the compressed state, the ticket row, the open-task projection and the hash-chained audit
trail, one transaction per step. State only: the engine alone plus the least that persisting a
step can cost — the platform's state dump written by one autocommitted statement on a bare
driver connection, with no lock, ticket row, projection, audit entry or form check; it bounds
from above what any full stack that commits each step's state can reach on this machine.
Commit only: the same with one byte written instead of the state, which shows what the
per-step commit alone costs. All four run in P processes side by side in one run. The last
line printed is one JSON object with the figures."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

INTAKE = {"channel": "phone", "category": "complaint", "urgency": "normal", "subject": "住院报销迟迟未到账",
          "content": "三月住院的报销款至今未到账，请核查。", "caller_phone": "13800000001", "answered_on_spot": False}
STEPS = [
    ("dispatch", "agent", None),
    ("department_accept", "dept_handler", {"accept_decision": "accept"}),
    ("department_handle", "dept_handler", {"handle_action": "return", "result": "已核实，款项已补发"}),
    ("return_review", "agent", {"review_decision": "accept"}),
    ("reply", "agent", {"reply": "您的报销款已补发，请查收。"}),
    ("callback", "agent", {"satisfaction": "satisfied"}),
]


def _lifecycle(workflow_class, parsed, script_engine, after_step) -> None:
    """One ticket through the loop in memory, the platform's ready-task lookup choosing each task."""
    from SpiffWorkflow.util.task import TaskState

    from workflows import clock, projection
    from workflows.sla import iso

    workflow = workflow_class(parsed.spec, parsed.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(intake_at=iso(clock.now()), first_handling_days=1, max_callback_attempts=3,
                      escalate_after_redispatches=3)
    workflow.do_engine_steps()
    for name, data in [("intake", INTAKE)] + [(n, d or {"department_id": 1}) for n, _r, d in STEPS]:
        # The platform's own lookup of the ready user tasks (projection), so every side does the same.
        task = next(t for t in projection.ready_user_tasks(workflow) if t.task_spec.bpmn_id == name)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
        after_step(workflow)
    assert workflow.completed


def engine_only(count: int, queue) -> None:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from workflows import specs
    from workflows.script_engine import make_script_engine
    from workflows.sla import SlaPolicy, script_helpers

    parsed = specs.parse("ticket", specs.bundled_files())
    script_engine = make_script_engine(helpers=script_helpers(SlaPolicy()))
    started = time.perf_counter()
    for _ in range(count):
        _lifecycle(BpmnWorkflow, parsed, script_engine, lambda workflow: None)
    queue.put(("engine", count, time.perf_counter() - started, []))


STATE_ONLY_TABLE = "bench_state_only"


def commit_only(count: int, queue) -> None:
    """As `state_only`, but each step writes one byte instead of the state: what the commit costs."""
    state_only(count, queue, dump=lambda workflow: b"-", kind="commit_only")


def state_only(count: int, queue, dump=None, kind: str = "state_only") -> None:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from app import create_app
    from app.extensions import db
    from config import config_from_env
    from workflows import serialization, specs
    from workflows.script_engine import make_script_engine
    from workflows.sla import SlaPolicy, script_helpers

    dump = dump or serialization.dump
    parsed = specs.parse("ticket", specs.bundled_files())
    script_engine = make_script_engine(helpers=script_helpers(SlaPolicy()))
    app = create_app(config_from_env())
    with app.app_context():
        # The platform's own connection settings (SQLite's pragmas included), without SQLAlchemy
        # between the step and the driver.
        proxy = db.engine.raw_connection()
        driver = proxy.driver_connection
        if db.engine.dialect.name == "postgresql":
            driver.autocommit = True
            insert = "INSERT INTO bench_state_only (state) VALUES (%s) RETURNING id"
            update = "UPDATE bench_state_only SET state = %s WHERE id = %s"
        else:
            driver.isolation_level = None  # each statement commits by itself
            insert = "INSERT INTO bench_state_only (state) VALUES (?) RETURNING id"
            update = "UPDATE bench_state_only SET state = ? WHERE id = ?"
        cursor = driver.cursor()
        row: list[int] = []

        def persist(workflow) -> None:
            state = dump(workflow)
            if row:
                cursor.execute(update, (state, row[0]))
            else:
                row.append(cursor.execute(insert, (state,)).fetchone()[0])

        started = time.perf_counter()
        for _ in range(count):
            row.clear()
            _lifecycle(BpmnWorkflow, parsed, script_engine, persist)
        elapsed = time.perf_counter() - started
        proxy.close()
    queue.put((kind, count, elapsed, []))


def full_stack(count: int, worker_no: int, queue) -> None:
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Department, User
    from config import config_from_env
    from workflows import engine
    from workflows.audit_trail import Actor

    app = create_app(config_from_env())
    latencies: list[float] = []
    with app.app_context():
        dept = db.session.scalar(select(Department).where(Department.code == "BENCH"))
        agent = db.session.scalar(select(User).where(User.username == "bench_agent"))
        handler = db.session.scalar(select(User).where(User.username == "bench_handler"))
        dept_id = dept.id
        actors = {"agent": Actor(agent.id, agent.username, "agent"),
                  "dept_handler": Actor(handler.id, handler.username, "dept_handler")}
        started = time.perf_counter()
        for _ in range(count):
            t0 = time.perf_counter()
            ticket = engine.start_ticket(INTAKE, actors["agent"])
            latencies.append(time.perf_counter() - t0)
            ticket_id = ticket.id
            for name, role, data in STEPS:
                # Each step hands back the ticket's open tasks, as an inbox would list them.
                task_id = next(task_id for task_id, task_name in ticket.open_tasks if task_name == name)
                t0 = time.perf_counter()
                ticket = engine.complete_task(ticket_id, task_id, data or {"department_id": dept_id}, actors[role])
                latencies.append(time.perf_counter() - t0)
            db.session.remove()
        elapsed = time.perf_counter() - started
    queue.put(("full", count, elapsed, latencies))


def prepare_database() -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import Department, ProcessInstance, User
    from app.setup import apply_migrations
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        apply_migrations()
        if db.session.scalar(select(Department).where(Department.code == "BENCH")) is None:
            dept = Department(code="BENCH", name="压测部门", kind="section", active=True, sort_order=0)
            db.session.add(dept)
            for name, role, depts in (("bench_agent", "agent", []), ("bench_handler", "dept_handler", [dept])):
                user = User(username=name, display_name=name, password_hash=hash_password("Bench12393"), active=True,
                            must_change_password=False, failed_login_count=0, session_version=1)
                user.set_roles([role])
                user.departments = depts
                db.session.add(user)
            db.session.commit()
        from workflows import specs

        specs.latest_version()
        db.session.commit()
        state = "BYTEA" if db.engine.dialect.name == "postgresql" else "BLOB"
        key = "SERIAL" if db.engine.dialect.name == "postgresql" else "INTEGER"
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {STATE_ONLY_TABLE}")
            connection.exec_driver_sql(f"CREATE TABLE {STATE_ONLY_TABLE} (id {key} PRIMARY KEY, state {state} NOT NULL)")
            if db.engine.dialect.name == "postgresql":
                # As process_instance.state (migration b3c4d5e6f701): out of line, not compressed again.
                connection.exec_driver_sql(f"ALTER TABLE {STATE_ONLY_TABLE} ALTER COLUMN state SET STORAGE EXTERNAL")
        return {"dialect": db.engine.dialect.name,
                "instances_before": db.session.scalar(select(func.count(ProcessInstance.id)))}


def settle(info: dict) -> None:
    """Bring the database to the state a running site's is in before timing anything.

    A site's tables are never empty, and its autovacuum keeps the planner's statistics current.
    On an empty database the statistics say "no rows", so PostgreSQL reads the ticket and instance
    tables by sequential scan at every step, and a first run would time that instead. So at least
    WARM_UP tickets go through the loop untimed first, then the tables are vacuumed and analyzed,
    as autovacuum would (this machine's server runs with autovacuum off)."""
    missing = WARM_UP - info["instances_before"]
    if missing > 0:
        run("full", missing, 2)
    from app import create_app
    from app.extensions import db
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")


WARM_UP = 1000


def drop_state_only_table() -> None:
    from app import create_app
    from app.extensions import db
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {STATE_ONLY_TABLE}")


def state_sizes() -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import ProcessInstance
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        avg = db.session.scalar(select(func.avg(func.length(ProcessInstance.state))))
        return {"state_bytes_per_ticket": round(float(avg or 0))}


def _guarded(target, *args) -> None:
    """A child's failure must reach the parent instead of leaving it waiting on the queue."""
    queue = args[-1]
    try:
        target(*args)
    except BaseException as exc:
        queue.put(("error", 0, 0.0, repr(exc)))
        raise


def run(kind: str, total: int, processes: int) -> tuple[float, list[float]]:
    queue = mp.get_context("fork").Queue()
    share = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    ctx = mp.get_context("fork")
    target = {"engine": engine_only, "commit_only": commit_only, "state_only": state_only, "full": full_stack}[kind]
    procs = [ctx.Process(target=_guarded, args=(target, n, i, queue) if kind == "full" else (target, n, queue))
             for i, n in enumerate(share)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=3600) for _ in procs]
    failures = [r[3] for r in results if r[0] == "error"]
    if failures:
        raise SystemExit(f"{kind} benchmark failed: {failures}")
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - started
    latencies = [x for r in results for x in r[3]]
    return sum(r[1] for r in results) / wall, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="hotline-bench-")
        os.environ["HOTLINE_INSTANCE_PATH"] = folder
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"
    info = prepare_database()
    settle(info)
    engine_rate, _ = run("engine", args.tickets, args.processes)
    try:
        commit_only_rate, _ = run("commit_only", args.tickets, args.processes)
        state_only_rate, _ = run("state_only", args.tickets, args.processes)
    finally:
        drop_state_only_table()
    full_rate, latencies = run("full", args.tickets, args.processes)
    latencies.sort()
    q = statistics.quantiles([x * 1000 for x in latencies], n=100)
    figures = {
        "database": info["dialect"],
        "tickets": args.tickets,
        "processes": args.processes,
        "steps_per_lifecycle": len(STEPS) + 1,
        "engine_lifecycles_per_s": round(engine_rate, 1),
        "full_lifecycles_per_s": round(full_rate, 1),
        "ratio": round(full_rate / engine_rate, 3),
        "commit_only_lifecycles_per_s": round(commit_only_rate, 1),
        "commit_only_ratio": round(commit_only_rate / engine_rate, 3),
        "state_only_lifecycles_per_s": round(state_only_rate, 1),
        "state_only_ratio": round(state_only_rate / engine_rate, 3),
        "step_p50_ms": round(q[49], 2),
        "step_p95_ms": round(q[94], 2),
        **state_sizes(),
    }
    print(f"engine alone : {figures['engine_lifecycles_per_s']} lifecycles/s")
    print(f"commit only  : {figures['commit_only_lifecycles_per_s']} lifecycles/s "
          f"(engine + one autocommitted one-byte write per step; ratio {figures['commit_only_ratio']})")
    print(f"state only   : {figures['state_only_lifecycles_per_s']} lifecycles/s "
          f"(engine + state dump + one autocommitted write per step; ratio {figures['state_only_ratio']})")
    print(f"full stack   : {figures['full_lifecycles_per_s']} lifecycles/s on {info['dialect']}")
    print(f"step latency : p50 {figures['step_p50_ms']} ms, p95 {figures['step_p95_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
