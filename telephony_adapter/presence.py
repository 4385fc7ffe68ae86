"""Agent states (坐席状态): every transition closes one logged period and opens the next.

Reports compute utilisation, after-call work and adherence from `AgentStateLog`; the ACD reads
`AgentPresence` (the longest-idle ready agent gets the call). Functions here change rows in the
caller's transaction; the services that call them commit."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AgentPresence, AgentStateLog
from app.models.contacts import AGENT_STATES, NOT_READY_REASONS
from app.refusals import Refused

# Which states an agent may choose from the bar; the others are set by calls.
CHOSEN = {"ready", "not_ready", "logged_out"}
ON_A_CALL = {"reserved", "talking", "held"}
_OPENED = "agent_state_log_opened"  # session.info key: the log rows this transaction opened, by agent


class PresenceRefused(Refused):
    """A state change the agent may not make now."""


def presence(user_id: int, lock: bool = False) -> AgentPresence:
    """The agent's presence row (created logged out on first use), locked when asked."""
    query = select(AgentPresence).where(AgentPresence.user_id == user_id)
    if lock:
        query = query.with_for_update()
    row = db.session.scalar(query)
    if row is None:
        # Two requests of one agent (the bar's stream and its first click) may both find no row:
        # an insert that yields to the other's leaves exactly one, then both read it.
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(AgentPresence.__table__)
                           .values(user_id=user_id, state="logged_out", since=_epoch(), idle_since=None)
                           .on_conflict_do_nothing(index_elements=["user_id"]))
        row = db.session.scalar(query)
    return row


def note_location(row: AgentPresence, address: str | None) -> None:
    """Where the agent works from: outside the office's networks (HOTLINE_OFFICE_NETWORKS) they are
    a remote seat (场外坐席), measured like everyone else and marked on the wallboard."""
    if not address:
        return
    row.address = address[:45]
    networks = office_networks(current_app.config.get("OFFICE_NETWORKS") or "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        row.remote = bool(networks)
        return
    row.remote = bool(networks) and not any(ip in network for network in networks)


def office_networks(setting: str) -> list:
    """The configured office networks; a wrong entry is a configuration error, said at once."""
    found = []
    for part in setting.split(","):
        if part.strip():
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"HOTLINE_OFFICE_NETWORKS: {part.strip()!r} is not a network") from exc
    return found


def _epoch() -> datetime:
    return datetime(2000, 1, 1, tzinfo=UTC)


def move(row: AgentPresence, state: str, now: datetime, *, reason: str | None = None,
         contact_id: int | None = None, idle_since: datetime | None = None) -> None:
    """Put an agent into `state` at `now`: the open log period ends there and a new one starts."""
    if state not in AGENT_STATES:
        raise ValueError(state)
    opened = db.session.info.setdefault(_OPENED, {})
    previous = opened.get(row.user_id)
    if previous is not None and previous in db.session:
        previous.ended_at = now  # opened earlier in this transaction: no statement needed
    else:
        with db.session.no_autoflush:
            db.session.execute(update(AgentStateLog).where(AgentStateLog.user_id == row.user_id,
                                                           AgentStateLog.ended_at.is_(None)).values(ended_at=now))
    if state != "logged_out":
        opened[row.user_id] = AgentStateLog(user_id=row.user_id, state=state, reason=reason, contact_id=contact_id,
                                            started_at=now)
        db.session.add(opened[row.user_id])
    row.state, row.reason, row.since = state, reason, now
    row.contact_id = contact_id if state in ON_A_CALL | {"after_call_work"} else None
    row.acw_until = None
    if state == "ready":
        row.idle_since = idle_since or now
    elif state in ("logged_out", "not_ready"):
        row.idle_since = None


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_opened(session: Session) -> None:
    session.info.pop(_OPENED, None)


def choose(user_id: int, state: str, now: datetime, reason: str | None = None,
           row: AgentPresence | None = None) -> AgentPresence:
    """The agent presses 示闲 / 示忙 (with a reason) / 签出 / 整理完成. `row`: their presence row,
    when the caller already holds its lock."""
    if state not in CHOSEN:
        raise PresenceRefused("无法切换到该状态")
    row = row or presence(user_id, lock=True)
    if row.state in ON_A_CALL:
        raise PresenceRefused("通话中不能切换状态，请先结束通话")
    if state == "not_ready" and reason not in NOT_READY_REASONS:
        raise PresenceRefused("示忙须选择原因（小休、用餐、培训、会议、其他）")
    if row.state == state and row.reason == (reason if state == "not_ready" else None):
        return row
    move(row, state, now, reason=reason if state == "not_ready" else None)
    return row


def start_after_call_work(row: AgentPresence, contact_id: int, now: datetime) -> None:
    move(row, "after_call_work", now, contact_id=contact_id)
    row.acw_until = now + timedelta(seconds=current_app.config["ACW_SECONDS"])


def due_after_call_work(now: datetime) -> list[int]:
    """Agents whose after-call work has run out."""
    return list(db.session.scalars(select(AgentPresence.user_id).where(
        AgentPresence.state == "after_call_work", AgentPresence.acw_until <= now)))
