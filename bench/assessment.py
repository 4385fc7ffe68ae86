"""Benchmark: the monthly assessment (月度考核, its HTML figures) and the monthly operational report
as PDF, over a month of generated records.

    DATABASE_URL=postgresql://postgres@127.0.0.1/hotline_bench_assessment \\
        .venv/bin/python bench/assessment.py [--contacts 3000000] [--tickets 300000]

The month (December 2026) is filled once with contacts (80 % calls, 20 % chats; answered,
abandoned, surveyed, rated) and tickets (categories, departments, first-handling deadlines met or
missed) by PostgreSQL's COPY; a later run with the same sizes reuses them. Then it times, in one
run: the assessment computed and its page rendered (goal ≤ 3 s), and the month's operational report
built as PDF (goal ≤ 8 s). The last line is one JSON object with `assessment_s` and `report_pdf_s`.
DATABASE_URL unset: a temporary SQLite file (slow to fill; use small sizes)."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accounts import ensure_user  # noqa: E402 - after the path is set

MONTH = date(2026, 12, 1)
START = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Beijing
AGENTS = 150


def _app():
    from app import create_app
    from config import config_from_env

    return create_app(config_from_env())


def prepare(contacts: int, tickets: int) -> dict:
    from sqlalchemy import func, select, text

    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import Contact, Department, Ticket
    from app.setup import apply_migrations

    app = _app()
    with app.app_context():
        apply_migrations()
        agents = []
        password = hash_password("Bench12393!")
        for n in range(AGENTS):
            agents.append(ensure_user(f"bench_assess_{n:03d}", "agent", password).id)
        departments = []
        for n in range(20):
            code = f"BA{n:02d}"
            dept = db.session.scalar(select(Department).where(Department.code == code))
            if dept is None:
                dept = Department(code=code, name=f"压测部门{n}", kind="section", active=True, sort_order=n)
                db.session.add(dept)
                db.session.flush()
            departments.append(dept.id)
        ensure_user("bench_assess_manager", "manager", password, "压测主管")
        db.session.commit()
        have = db.session.scalar(select(func.count(Contact.id)).where(Contact.call_id.like("bench-%")))
        have_tickets = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.number.like("B%")))
        generated = not (have == contacts and have_tickets == tickets)
        if generated:
            db.session.execute(text("DELETE FROM contact WHERE call_id LIKE 'bench-%'"))
            db.session.execute(text("DELETE FROM ticket WHERE number LIKE 'B%'"))
            db.session.commit()
            _fill(db, contacts, tickets, agents, departments)
        if db.engine.dialect.name == "postgresql":
            # This machine's server runs with autovacuum off; a production server vacuums by itself
            # (and a migration may just have built an index whose pages are not yet marked visible).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE contact")
                connection.exec_driver_sql("VACUUM ANALYZE ticket")
        return {"dialect": db.engine.dialect.name, "generated": generated}


def _contact_rows(count: int, agents: list[int]):
    rng = random.Random(12393)  # noqa: S311 - generated load, not a secret
    span = 31 * 86400
    channels = ("phone",) * 8 + ("wechat", "web")
    for n in range(count):
        started = START + timedelta(seconds=rng.randrange(span))
        channel = channels[n % 10]
        answered = rng.random() < 0.9
        agent = rng.choice(agents) if answered else None
        if channel == "phone":
            wait = rng.randrange(60)
            yield (channel, "bench", f"bench-{n}", "ended", started, started + timedelta(seconds=5), wait,
                   started + timedelta(seconds=5 + wait + 3) if answered else None, agent, not answered,
                   rng.randrange(60, 400) if answered else 0, rng.randrange(0, 20) if answered else 0,
                   rng.choice((1, 1, 1, 2, 2, 3, 4)) if answered and rng.random() < 0.3 else None, None, None,
                   started + timedelta(minutes=6), None)
        else:
            offered = started + timedelta(seconds=rng.randrange(20))
            yield (channel, channel, f"bench-{n}", "ended", started, started, 0,
                   offered + timedelta(seconds=rng.randrange(5, 45)), agent, False, 0, 0, None,
                   rng.choice(("satisfied", "basic", "dissatisfied", None)), f"p{n}", started + timedelta(minutes=9),
                   offered)


def _fill(db, contacts: int, tickets: int, agents: list[int], departments: list[int]) -> None:
    columns = ("channel", "source", "call_id", "state", "started_at", "queued_at", "wait_seconds", "answered_at",
               "agent_id", "abandoned", "talk_seconds", "acw_seconds", "survey_score", "chat_rating", "party",
               "ended_at", "offered_at")
    rng = random.Random(7)  # noqa: S311 - generated load
    subjects = ("异地就医备案怎么办理", "门诊慢特病申请材料", "医保卡丢失补办", "生育津贴何时到账", "住院报销比例",
                "灵活就业参保缴费", "电子医保凭证激活", "药店刷卡问题")
    categories = ("consultation", "help", "complaint", "suggestion", "praise", "business")

    def ticket_rows():
        for n in range(tickets):
            created = START + timedelta(seconds=rng.randrange(31 * 86400))
            due = created + timedelta(days=1)
            handled = created + timedelta(hours=rng.randrange(1, 30)) if rng.random() < 0.97 else None
            yield (f"B{n:08d}", "phone", rng.choice(categories), "normal", rng.choice(subjects), "压测工单内容",
                   "archived", rng.choice(departments), rng.choice(agents), 0, "ok", due, handled, created, created)

    ticket_columns = ("number", "channel", "category", "urgency", "subject", "content", "status", "department_id",
                      "owner_id", "redispatch_count", "sla_state", "first_handling_due_at", "first_handled_at",
                      "created_at", "updated_at")
    defaults = {"contact": {"ivr_path": "", "priority": 0, "ring_seconds": 0.0, "hold_seconds": 0.0,
                            "ivr_misses": 0}}
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            extra = defaults["contact"]
            names = ", ".join(columns + tuple(extra))
            with cursor.copy(f"COPY contact ({names}) FROM STDIN") as copy:
                for row in _contact_rows(contacts, agents):
                    copy.write_row(row + tuple(extra.values()))
            with cursor.copy(f"COPY ticket ({', '.join(ticket_columns)}) FROM STDIN") as copy:
                for row in ticket_rows():
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    from sqlalchemy import insert

    from app.models import Contact, Ticket

    batch = []
    for row in _contact_rows(contacts, agents):
        batch.append({**dict(zip(columns, row, strict=True)), **defaults["contact"]})
        if len(batch) == 10_000:
            db.session.execute(insert(Contact), batch)
            batch = []
    if batch:
        db.session.execute(insert(Contact), batch)
    db.session.execute(insert(Ticket), [dict(zip(ticket_columns, row, strict=True)) for row in ticket_rows()])
    db.session.commit()


def measure() -> dict:
    from flask import render_template
    from flask_login import login_user
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ReportFile, User
    from app.reports import assessment, exports
    from worker.main import warm_up
    from workflows import clock

    app = _app()
    warm_up()  # as the rq worker does before it takes jobs (the PDF is built by one)
    now = datetime(2027, 1, 2, 4, 0, tzinfo=UTC)
    with app.test_request_context("/reports/assessment?month=2026-12"), clock.frozen_at(now):
        manager = db.session.scalar(select(User).where(User.username == "bench_assess_manager"))
        login_user(manager)  # the page as a manager sees it (signed out, it would render the sign-in shell)
        started = time.perf_counter()
        result = assessment.assess(MONTH, now)
        page = render_template("reports/assessment.html", result=result, may_assess=False, every="*",
                               scope={"month": "2026-12", "team": None, "agent": None}, teams=[], people=[])
        assessment_s = time.perf_counter() - started
        row = ReportFile(kind="month", first=MONTH, fmt="pdf", status="queued", progress=0, created_at=now)
        db.session.add(row)
        db.session.commit()
        started = time.perf_counter()
        exports.build(row.id)
        report_pdf_s = time.perf_counter() - started
        size = len(db.session.get(ReportFile, row.id).content)
        db.session.delete(row)
        db.session.commit()
    return {"assessment_s": round(assessment_s, 2), "report_pdf_s": round(report_pdf_s, 2), "pdf_bytes": size,
            "page_bytes": len(page), "total_deduction": result.total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--tickets", type=int, default=300_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["HOTLINE_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="hotline-bench-assessment-")
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"
    started = time.perf_counter()
    info = prepare(args.contacts, args.tickets)
    filled_s = time.perf_counter() - started
    figures = {"database": info["dialect"], "contacts": args.contacts, "tickets": args.tickets,
               "fill_s": round(filled_s, 1) if info["generated"] else 0.0, **measure()}
    print(f"{args.contacts:,} contacts, {args.tickets:,} tickets on {info['dialect']}")
    print(f"assessment (figures + page): {figures['assessment_s']} s (goal ≤ 3 s); "
          f"monthly report PDF: {figures['report_pdf_s']} s (goal ≤ 8 s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
