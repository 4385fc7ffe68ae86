"""The rq worker entry point: `hotline worker` (or `python -m worker.main`)."""

from __future__ import annotations

import logging

from rq import Worker

from app import create_app
from app.redis_client import get_redis
from worker.schedule import periodic_jobs
from worker.scheduler import PeriodicEnqueuer


def run_worker(queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True) -> bool:
    app = create_app()
    connection = get_redis(app)
    names = queues or app.config["RQ_QUEUES"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not burst:
        PeriodicEnqueuer(connection, periodic_jobs(app.config)).start()
    worker = Worker(names, connection=connection)
    return worker.work(burst=burst, with_scheduler=with_scheduler)


if __name__ == "__main__":  # pragma: no cover
    run_worker()
