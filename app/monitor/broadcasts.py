"""广播: a team lead's message to every agent's screen — pushed to each signed-in agent at once,
and shown to anyone who opens a page while it is fresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, Broadcast, User
from app.refusals import Refused
from telephony_adapter import push
from workflows import audit_trail

MAX_TEXT = 200
FRESH_MINUTES = 30


class BroadcastRefused(Refused):
    """A broadcast refused."""


def send(user: User, text: str, now: datetime, ip: str | None) -> tuple[Broadcast, int]:
    """Store, audit and push; returns the broadcast and how many signed-in agents it reached."""
    text = " ".join((text or "").split())
    if not text:
        raise BroadcastRefused("广播内容不能为空")
    if len(text) > MAX_TEXT:
        raise BroadcastRefused(f"广播最多 {MAX_TEXT} 个字")
    row = Broadcast(text=text, author_id=user.id, created_at=now, expires_at=now + timedelta(minutes=FRESH_MINUTES))
    db.session.add(row)
    db.session.flush()
    audit_trail.append(audit_trail.Actor.of(user, ip), "monitor.broadcast", summary=f"广播：{text[:60]}",
                       data={"broadcast_id": row.id, "text": text})
    signed_in = list(db.session.scalars(select(AgentPresence.user_id).where(AgentPresence.state != "logged_out")))
    db.session.commit()
    payload = payload_of(row, user.display_name)
    for agent_id in signed_in:
        push.publish(agent_id, "broadcast", payload)
    return row, len(signed_in)


def payload_of(row: Broadcast, author: str) -> dict:
    return {"id": row.id, "text": row.text, "author": author, "at": row.created_at.isoformat()}


def latest(now: datetime) -> Broadcast | None:
    return db.session.scalar(select(Broadcast).where(Broadcast.expires_at > now)
                             .order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(1))


def latest_payload(now: datetime) -> dict | None:
    row = latest(now)
    return payload_of(row, row.author.display_name) if row else None
