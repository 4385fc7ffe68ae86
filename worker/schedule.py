"""The periodic jobs, in one declarative list; `hotline worker` registers them with rq's cron."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    func: str  # dotted path of the job
    every_seconds: int
    queue: str = "default"
    timeout: int = 300


def periodic_jobs(config) -> list[Periodic]:
    return [
        Periodic("worker.jobs.sweep_timers", config["TIMER_SWEEP_SECONDS"]),
        # After-call work lasts ACW_SECONDS (30 by default); a 5-second tick ends it on time.
        Periodic("worker.jobs.expire_after_call_work", 5, timeout=60),
        # Work whose job was lost (worker killed, Redis emptied) is queued again from the database:
        # chat replies still pending, report files still unbuilt.
        Periodic("worker.jobs.recover_lost_jobs", config["OUTBOX_SWEEP_SECONDS"], timeout=120),
        # Checks every 5 minutes; from 08:00 it queues the day before's 日报 once.
        Periodic("worker.jobs.archive_daily_report", 300, timeout=60),
        # Checks every 30 minutes; from 01:00 it draws the day before's QA sample once.
        Periodic("worker.jobs.sample_quality", 1800, timeout=300),
    ]
