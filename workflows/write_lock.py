"""SQLite needs its write lock taken up front for an engine step (or any read-then-write).

pysqlite opens a transaction lazily at the first write; a step reads first and writes later, and
when another writer committed in between SQLite refuses the upgrade at once ("database is locked")
instead of waiting. BEGIN IMMEDIATE takes the lock first, waiting up to busy_timeout, so steps on
the embedded database queue up instead of failing. PostgreSQL needs nothing: steps lock the
instance row with FOR UPDATE."""

from __future__ import annotations

from app.extensions import db


def take_write_lock() -> None:
    if db.engine.dialect.name != "sqlite":
        return
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
