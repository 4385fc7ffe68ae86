"""Pooled database connections are checked before use only after they sat idle for a while.

`pool_pre_ping` costs one round trip on every checkout — one per engine step, as much as a
step's own statements. A connection handed back a moment ago is almost surely alive; one that
sat idle (a database restart, a firewall's idle cut) is pinged first and replaced if dead."""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_SECONDS_BEFORE_PING = 10.0


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_SECONDS_BEFORE_PING) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.get("checked_in_at")
        if since is not None and time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            if engine.dialect.name == "postgresql" and not dbapi_connection.autocommit:
                dbapi_connection.rollback()  # the ping opened a transaction; end it before use
        except Exception as error:  # any failure means this connection is unusable
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
