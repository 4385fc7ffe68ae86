"""Readiness (/readyz): may this web process take traffic? It needs its database (reachable, and
its schema at the release's newest migration) and its Redis (pushes, jobs, throttling). The rq
workers are reported but do not decide: a web node serves pages while workers restart."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@lru_cache(maxsize=1)
def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _database() -> dict:
    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", said plainly
        db.session.rollback()
        log.warning("readiness: database unavailable: %s", exc)
        return {"ok": False, "error": "数据库不可用"}
    finally:
        db.session.close()
    head = _head()
    if current != head:
        return {"ok": False, "error": f"数据库结构版本 {current} 不是本版本的 {head}，请先执行迁移"}
    return {"ok": True, "revision": current}


def _redis() -> tuple[dict, int | None]:
    from rq import Worker

    from app.redis_client import get_redis

    try:
        connection = get_redis()
        connection.ping()
        workers = len(Worker.all(connection=connection))
    except Exception as exc:  # noqa: BLE001
        log.warning("readiness: Redis unavailable: %s", exc)
        return {"ok": False, "error": "Redis 不可用"}, None
    return {"ok": True}, workers


def check() -> tuple[bool, dict]:
    database = _database()
    redis_state, workers = _redis()
    ready = database["ok"] and redis_state["ok"]
    return ready, {"status": "ready" if ready else "not_ready", "database": database, "redis": redis_state,
                   "workers": workers, "version": _version()}


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hotline")
    except PackageNotFoundError:
        return "unknown"
