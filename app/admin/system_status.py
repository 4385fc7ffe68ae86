"""Health of the parts the platform needs: database, Redis, rq workers and queues."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from flask import current_app
from rq import Queue, Worker
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.redis_client import get_redis

HEARTBEAT_KEY = "hotline:worker:heartbeat"


@dataclass
class StatusReport:
    database: str = ""
    database_ok: bool = False
    schema_revision: str | None = None
    redis: str = ""
    redis_ok: bool = False
    workers: list[dict] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)
    last_heartbeat: datetime | None = None


def collect() -> StatusReport:
    report = StatusReport()
    try:
        report.database = db.engine.dialect.name + " " + ".".join(map(str, db.engine.dialect.server_version_info or ()))
        report.schema_revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        report.database_ok = True
    except SQLAlchemyError as exc:
        db.session.rollback()
        report.database = f"不可用：{exc.__class__.__name__}"
    try:
        conn = get_redis()
        report.redis = "Redis " + conn.info("server")["redis_version"]
        report.redis_ok = True
        report.workers = [
            {"name": w.name, "state": w.get_state(), "queues": ", ".join(w.queue_names()),
             "last_heartbeat": w.last_heartbeat}
            for w in Worker.all(connection=conn)
        ]
        report.queues = {name: Queue(name, connection=conn).count for name in current_app.config["RQ_QUEUES"]}
        beat = conn.get(HEARTBEAT_KEY)
        if beat:
            report.last_heartbeat = datetime.fromisoformat(beat.decode()).astimezone(UTC)
    except (redis.RedisError, OSError) as exc:
        report.redis = f"不可用：{exc.__class__.__name__}"
    return report


def enqueue_heartbeat() -> str:
    job = Queue("default", connection=get_redis()).enqueue("worker.jobs.heartbeat", job_timeout=30)
    return job.id
