"""The ACD (自动话务分配): which ready agent gets a waiting call, and which waiting call an agent
who just became free gets.

Rules: an agent serves a queue with the queue's skill at its minimum level, or — once the call
has waited the queue's overflow time — with the queue's overflow skill at any level; among the
agents who may, the one idle longest gets the call; among the waiting calls an agent may serve,
repeat callers come first, then the longest waiting. Candidates are locked with SKIP LOCKED on
PostgreSQL, so two calls routed at once never reserve the same agent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select

from app.extensions import db
from app.models import AgentPresence, CallQueue, Contact, UserSkill
from telephony_adapter import presence


def skip_locked() -> dict:
    return {"skip_locked": True} if db.engine.dialect.name == "postgresql" else {}


def _skill_condition(queue: CallQueue, waited: float):
    """Who may take a call of this queue that has waited `waited` seconds."""
    direct = and_(UserSkill.skill_id == queue.skill_id, UserSkill.level >= queue.min_level)
    if queue.overflow_skill_id and queue.overflow_after_seconds and waited >= queue.overflow_after_seconds:
        return or_(direct, UserSkill.skill_id == queue.overflow_skill_id)
    return direct


def pick_agent(contact: Contact, now: datetime) -> AgentPresence | None:
    """The longest-idle ready agent who may take this call, locked; None when nobody may."""
    queue = db.session.get(CallQueue, contact.queue_id)
    waited = (now - contact.queued_at).total_seconds() if contact.queued_at else 0.0
    agent_ids = select(UserSkill.user_id).where(_skill_condition(queue, waited))
    return db.session.scalar(
        select(AgentPresence).where(AgentPresence.state == "ready", AgentPresence.user_id.in_(agent_ids))
        .order_by(AgentPresence.idle_since, AgentPresence.user_id).limit(1)
        .with_for_update(**skip_locked()))


def _queues_for(user_id: int) -> list[tuple]:
    """Each active queue with this agent's level in its skill and in its overflow skill, in one query."""
    level = select(UserSkill.level).where(UserSkill.user_id == user_id)
    direct = level.where(UserSkill.skill_id == CallQueue.skill_id).scalar_subquery()
    overflow = level.where(UserSkill.skill_id == CallQueue.overflow_skill_id).scalar_subquery()
    return db.session.execute(select(CallQueue.id, CallQueue.min_level, CallQueue.overflow_after_seconds,
                                     direct, overflow).where(CallQueue.active.is_(True))).all()


def pick_contact(user_id: int, now: datetime) -> Contact | None:
    """The waiting call this agent should get now, locked; None when there is none for them.
    Chats are not calls: they are shared out by `chats.assign` (several per agent)."""
    if db.engine.dialect.name == "postgresql":
        return _pick_contact_pg(user_id, now)
    served = []
    for queue_id, min_level, overflow_after, level, overflow_level in _queues_for(user_id):
        if level is not None and level >= min_level:
            served.append(Contact.queue_id == queue_id)
        elif overflow_level is not None and overflow_after:
            served.append(and_(Contact.queue_id == queue_id,
                               Contact.queued_at <= now - timedelta(seconds=overflow_after)))
    if not served:
        return None
    return db.session.scalar(
        select(Contact).where(Contact.state == "queued", Contact.channel == "phone", or_(*served))
        .order_by(Contact.priority, Contact.queued_at, Contact.id).limit(1)
        .with_for_update(**skip_locked()))


def _pick_contact_pg(user_id: int, now: datetime) -> Contact | None:
    """The same choice in one statement: the waiting calls in serving order (the partial index),
    each kept if the agent's level in its queue's skill is enough, or — past the queue's overflow
    wait — if the agent has the overflow skill at all."""
    level = select(UserSkill.level).where(UserSkill.user_id == user_id)
    direct = level.where(UserSkill.skill_id == CallQueue.skill_id, UserSkill.level >= CallQueue.min_level).exists()
    since = literal(now, Contact.__table__.c.queued_at.type) - func.make_interval(
        0, 0, 0, 0, 0, 0, CallQueue.overflow_after_seconds)
    overflow = and_(CallQueue.overflow_after_seconds > 0, Contact.queued_at <= since,
                    level.where(UserSkill.skill_id == CallQueue.overflow_skill_id).exists())
    return db.session.scalar(
        select(Contact).join(CallQueue, CallQueue.id == Contact.queue_id)
        .where(Contact.state == "queued", Contact.channel == "phone", CallQueue.active.is_(True), or_(direct, overflow))
        .order_by(Contact.priority, Contact.queued_at, Contact.id).limit(1)
        .with_for_update(of=Contact, skip_locked=True))


def offer(contact: Contact, agent: AgentPresence, now: datetime) -> None:
    """Reserve the agent for the call: their phone rings (振铃)."""
    contact.state, contact.agent_id, contact.offered_at = "offered", agent.user_id, now
    contact.wait_seconds = _seconds(contact.queued_at, now)
    presence.move(agent, "reserved", now, contact_id=contact.id)


def route_contact(contact: Contact, now: datetime) -> AgentPresence | None:
    """A call has just been queued (or waited past its overflow time): offer it if someone may take it."""
    agent = pick_agent(contact, now)
    if agent is not None:
        offer(contact, agent, now)
    return agent


def agent_available(user_id: int, now: datetime, agent: AgentPresence | None = None) -> Contact | None:
    """An agent has just become ready: give them the waiting call they should take, if any.
    `agent`: their presence row when the caller already holds its lock."""
    agent = agent or presence.presence(user_id, lock=True)
    if agent.state != "ready":
        return None
    with db.session.no_autoflush:  # the agent's own changes are written once, at commit
        contact = pick_contact(user_id, now)
    if contact is not None:
        offer(contact, agent, now)
    return contact


def _seconds(start: datetime | None, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds()) if start else 0.0
