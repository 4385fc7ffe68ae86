"""rq jobs. Each job builds its own app context through worker.context, never at import."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from worker.context import job_app_context

log = logging.getLogger(__name__)


def heartbeat() -> str:
    """Prove a worker is alive and connected: record the time it ran in Redis."""
    from app.admin.system_status import HEARTBEAT_KEY
    from app.redis_client import get_redis

    with job_app_context() as app:
        stamp = datetime.now(UTC).isoformat()
        get_redis(app).set(HEARTBEAT_KEY, stamp)
        log.info("heartbeat at %s", stamp)
        return stamp


def sweep_timers() -> dict[str, int]:
    """Fire the working-day timers that are due (warnings, overdue, major events)."""
    import logging

    from workflows.sweep import sweep_due_timers

    with job_app_context():
        counts = sweep_due_timers()
        logging.getLogger(__name__).info("timer sweep: %s", counts)
        return counts


def expire_after_call_work() -> int:
    """Agents whose after-call work (整理态) ran out go back to ready and get the next waiting call."""
    from telephony_adapter.agents import expire_after_call_work as expire
    from workflows import clock

    with job_app_context():
        return expire(clock.now())


def send_chat_message(message_id: int) -> str:
    """An agent's chat reply handed to its channel (微信客服消息 …), retried by re-enqueueing."""
    from telephony_adapter import chats
    from workflows import clock

    with job_app_context():
        return chats.send(message_id, clock.now())


def recover_lost_jobs() -> dict[str, int]:
    """Work whose job was lost (a worker killed mid-job, Redis restarted empty) is queued again from
    what the database says is unfinished: chat replies still pending, report files still unbuilt,
    large person imports still being checked or written."""
    from app.people import imports
    from app.reports import exports
    from telephony_adapter import chats
    from workflows import clock

    with job_app_context():
        return {"chat_messages": len(chats.resend_stalled(clock.now())),
                "report_files": len(exports.requeue_stalled(clock.now())),
                "person_imports": len(imports.requeue_lost())}


def build_report(file_id: int) -> str:
    """A report file (PDF or Excel) for the archive, its progress kept on the row as it goes."""
    from app.reports import exports

    with job_app_context():
        return exports.build(file_id)


def archive_daily_report() -> int | None:
    """From 08:00, the day before's 日报 is built once into the archive."""
    from app.reports import exports
    from workflows import clock

    with job_app_context():
        row = exports.schedule_daily(clock.now())
        return row.id if row is not None else None


def sample_quality() -> int:
    """From 01:00, the day before's 质检 sample is drawn once (every agent, every channel)."""
    from datetime import timedelta

    from app.quality.services import sample_day
    from app.timefmt import display_zone, local_today
    from workflows import clock

    with job_app_context():
        now = clock.now()
        if now.astimezone(display_zone()).hour < 1:
            return 0
        return sample_day(local_today(now) - timedelta(days=1))
