"""The rq worker entry point: `hotline worker` (or `python -m worker.main`)."""

from __future__ import annotations

from rq import Worker

from app import create_app
from app.log_setup import configure
from app.redis_client import get_redis
from worker.schedule import periodic_jobs
from worker.scheduler import PeriodicEnqueuer


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
    worker = Worker(names, connection=connection)
    return worker.work(burst=burst, with_scheduler=with_scheduler)


if __name__ == "__main__":  # pragma: no cover
    run_worker()
