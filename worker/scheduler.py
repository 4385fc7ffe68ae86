"""Enqueues the periodic jobs of worker/schedule.py from every worker process, at most once per
interval across all machines: a Redis key set with NX and the interval as expiry is the ticket
to enqueue, so ten workers still give one timer sweep every 30 seconds."""

from __future__ import annotations

import logging
import threading

import redis
from rq import Queue

from worker.schedule import Periodic

log = logging.getLogger(__name__)


def enqueue_due(connection: redis.Redis, jobs: list[Periodic]) -> list[str]:
    """Enqueue each job whose interval has passed since any process last enqueued it."""
    enqueued = []
    for job in jobs:
        if connection.set(f"hotline:periodic:{job.func}", "1", nx=True, ex=job.every_seconds):
            Queue(job.queue, connection=connection).enqueue(job.func, job_timeout=job.timeout, result_ttl=600)
            enqueued.append(job.func)
    return enqueued


class PeriodicEnqueuer(threading.Thread):
    def __init__(self, connection: redis.Redis, jobs: list[Periodic], tick: float = 5.0) -> None:
        super().__init__(name="periodic-enqueuer", daemon=True)
        self.connection, self.jobs, self.tick = connection, jobs, tick
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                enqueue_due(self.connection, self.jobs)
            except redis.RedisError as exc:  # Redis restarting: try again on the next tick
                log.warning("periodic enqueue failed: %s", exc)
            self.stopped.wait(self.tick)
