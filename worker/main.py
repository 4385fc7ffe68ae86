"""The rq worker entry point: `hotline worker` (or `python -m worker.main`)."""

from __future__ import annotations

import logging
import time

import redis
from rq import Worker

from app import create_app
from app.log_setup import configure
from app.redis_client import get_redis
from worker.schedule import periodic_jobs
from worker.scheduler import PeriodicEnqueuer

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Load once, in the worker itself, what jobs would otherwise each load again: rq runs every job
    in a process forked from this one, so the word cutter's dictionary (1.5 s to load, used by the
    reports' hot topics and the knowledge base's index) is inherited ready."""
    from app.knowledge.search import tokenizer

    tokenizer()


def run_worker(queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True) -> bool:
    app = create_app()
    connection = get_redis(app)
    names = queues or app.config["RQ_QUEUES"]
    warm_up()
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])  # every line names its job
    if not burst:
        PeriodicEnqueuer(connection, periodic_jobs(app.config)).start()
    while True:
        worker = Worker(names, connection=connection)
        try:
            worked = worker.work(burst=burst, with_scheduler=with_scheduler)
        except redis.RedisError as exc:  # Redis went away while the worker registered or tore down
            log.warning("worker stopped: %s", exc)
            worked = False
        # rq notes when a SIGTERM / Ctrl+C asked it to stop (idle or busy); then this process ends too.
        if burst or getattr(worker, "_shutdown_requested_date", None) is not None:
            return worked
        # rq gives up when Redis vanishes mid-job (a restart, a failover); this process does not:
        # it waits for Redis and works on, so no supervisor is needed for the worker to come back.
        _wait_for_redis(connection)


RECONNECT_SECONDS = 1.0


def _wait_for_redis(connection: redis.Redis) -> None:
    while True:
        try:
            connection.ping()
            log.warning("Redis answers again: the worker starts again")
            return
        except redis.RedisError:
            time.sleep(RECONNECT_SECONDS)


if __name__ == "__main__":  # pragma: no cover
    run_worker()
