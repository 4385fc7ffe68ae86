"""The wallboard's live feed (实时监控): every committed change of an agent's state is published at
once on one Redis channel, with the state itself, so a board redraws that agent without asking
the database; a committed change of any contact (queued, answered, abandoned, a chat taken) is
published as a hint that the queue and day figures moved. Watching the session rather than each
place that changes an agent or a contact means no path (calls, chats, the ACD, a team lead's
action, the after-call-work sweep) can forget to tell the board.

Nothing is published for a rolled-back transaction; publishing never fails the transaction."""

from __future__ import annotations

import json
import logging
import time

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import AgentPresence, Contact

log = logging.getLogger(__name__)
CHANNEL = "hotline:board"
SNAPSHOT_KEY = "hotline:board:snapshot"  # the boards' shared snapshot (app/monitor/services.py)
_PENDING = "hotline_board_pending"
_WATCHED = ("state", "reason", "since", "contact_id", "remote")


def agent_payload(row: AgentPresence) -> dict:
    return {"user_id": row.user_id, "state": row.state, "reason": row.reason,
            "since": row.since.isoformat() if row.since else None, "contact_id": row.contact_id,
            "remote": bool(row.remote)}


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    pending = session.info.setdefault(_PENDING, {"agents": {}, "contacts": False})
    for row in list(session.new) + list(session.dirty):
        if isinstance(row, AgentPresence):
            state = inspect(row)
            if row in session.new or any(state.attrs[name].history.has_changes() for name in _WATCHED):
                pending["agents"][row.user_id] = agent_payload(row)
        elif isinstance(row, Contact):
            pending["contacts"] = True


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not (pending["agents"] or pending["contacts"]):
        return
    from app.redis_client import get_redis

    at = time.time()  # when the change was committed, so a board can tell how late it sees it
    try:
        connection = get_redis()
        with connection.pipeline(transaction=False) as pipe:
            pipe.delete(SNAPSHOT_KEY)  # a board asking after this change must not get the figures from before it
            for payload in pending["agents"].values():
                pipe.publish(CHANNEL, json.dumps({"kind": "agent", "at": at, **payload}))
            if pending["contacts"]:
                pipe.publish(CHANNEL, json.dumps({"kind": "contacts", "at": at}))
            pipe.execute()
    except (redis.RedisError, RuntimeError) as exc:  # RuntimeError: no app context (scripts, migrations)
        log.warning("wallboard push failed: %s", exc)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
