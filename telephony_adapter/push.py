"""Pushes to an agent's browser (screen pop, state changes) over Redis pub/sub.

Whichever web process holds the agent's event stream receives the message: nothing is kept in
a process. Publishing never fails a call: Redis being away costs the pop, not the event."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import redis

from app.redis_client import get_redis

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 600.0  # the browser's EventSource reconnects by itself; no thread is held forever


def channel(user_id: int) -> str:
    return f"hotline:agent:{user_id}"


def publish(user_id: int, kind: str, payload: dict) -> None:
    publish_to(channel(user_id), kind, payload)


def publish_to(name: str, kind: str, payload: dict) -> None:
    """To a named channel (an agent's, or a web-chat visitor's)."""
    try:
        get_redis().publish(name, json.dumps({"kind": kind, **payload}, ensure_ascii=False))
    except redis.RedisError as exc:
        log.warning("push to %s failed: %s", name, exc)


def stream(user_id: int, connection: redis.Redis, seconds: float = STREAM_SECONDS) -> Iterator[str]:
    """Server-sent events for one agent: `event: <kind>` with the JSON payload as data."""
    return stream_channel(channel(user_id), connection, seconds)


def stream_channel(name: str, connection: redis.Redis, seconds: float = STREAM_SECONDS) -> Iterator[str]:
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(name)
    try:
        yield from _relay(pubsub, seconds)
    except redis.ConnectionError as exc:  # Redis restarting: end the stream, the browser reconnects
        log.info("event stream %s ended: %s", name, exc)
    finally:
        pubsub.close()


def _relay(pubsub, seconds: float) -> Iterator[str]:
    yield "retry: 2000\n\n"
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        message = pubsub.get_message(timeout=KEEPALIVE_SECONDS)
        if message is None:
            yield ": keepalive\n\n"
            continue
        data = message["data"].decode() if isinstance(message["data"], bytes) else message["data"]
        kind = json.loads(data).get("kind", "message")
        yield f"event: {kind}\ndata: {data}\n\n"
