"""Queueing background work on rq. The database holds whatever must not be lost; a job is only the
nudge to do it now. So queueing never fails the request that stored the work: Redis being away is
logged, and the periodic recovery (worker.jobs.recover_lost_jobs) queues the work again from the
database once Redis is back."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from rq import Queue
from rq.job import Job

log = logging.getLogger(__name__)


def enqueue(func: str, *args, delay_seconds: int = 0, queue: str = "default", **options) -> Job | None:
    """The job queued (after `delay_seconds`), or None when Redis cannot be reached."""
    from app.redis_client import get_redis

    try:
        target = Queue(queue, connection=get_redis())
        if delay_seconds:
            return target.enqueue_in(timedelta(seconds=delay_seconds), func, *args, **options)
        return target.enqueue(func, *args, **options)
    except redis.RedisError as exc:
        log.warning("%s%r not queued: %s", func, args, exc)
        return None
