"""实时监控: what the wallboard shows — every agent's state, the queues (calls and chats waiting,
the longest wait), and today's figures against their thresholds — computed in a few queries and
shared by every board for a moment (Redis), so a room full of boards costs the database no more
than one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.models import AgentPresence, CallQueue, Contact, Ticket, User, UserRole, UserSkill
from app.models.contacts import AGENT_STATES, NOT_READY_LABELS
from app.timefmt import local_day_bounds, local_today
from telephony_adapter import chats
from telephony_adapter.board import SNAPSHOT_KEY

SNAPSHOT_MS = 800  # boards asking within this share one computation
SERVING_ROLES = ("agent", "team_lead")
OPEN_TICKET = ("archived", "cancelled")
SATISFIED_SCORES = (1, 2)  # the post-call survey: 1 非常满意, 2 满意, 3 不满意, 4 非常不满意


@dataclass(frozen=True)
class Threshold:
    """A figure turns amber past `amber` and red past `red`; `higher_is_better` says which way."""

    amber: float
    red: float
    higher_is_better: bool = True

    def level(self, value: float | None) -> str:
        if value is None:
            return ""
        if self.higher_is_better:
            return "red" if value < self.red else "amber" if value < self.amber else "ok"
        return "red" if value > self.red else "amber" if value > self.amber else "ok"


# The seed's goals: answer rate ≥ 80 %, satisfaction ≥ 97 %, after-call work < 10 s, chat
# satisfaction ≥ 90 %; amber warns before the goal is missed.
THRESHOLDS: dict[str, Threshold] = {
    "answer_rate": Threshold(0.90, 0.80),
    "service_level": Threshold(0.85, 0.80),
    "satisfaction": Threshold(0.98, 0.97),
    "chat_satisfaction": Threshold(0.95, 0.90),
    "acw_seconds": Threshold(8, 10, higher_is_better=False),
    "abandoned": Threshold(5, 20, higher_is_better=False),
    "longest_wait": Threshold(30, 60, higher_is_better=False),
    "tickets_overdue": Threshold(0, 5, higher_is_better=False),
}


def agents() -> list[dict]:
    """Everyone who serves (agents and team leads): their state, since when, what they are on."""
    serving = select(UserRole.user_id).where(UserRole.role.in_(SERVING_ROLES))
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, User.team_id, AgentPresence)
        .outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(User.active.is_(True), User.id.in_(serving)).order_by(User.display_name, User.id)).all()
    from app.models import Team

    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    open_chats: dict[int, list[int]] = {}
    for agent_id, contact_id in db.session.execute(
            select(Contact.agent_id, Contact.id).where(Contact.channel.in_(chats.CHANNELS), Contact.state == "talking")
            .order_by(Contact.offered_at, Contact.id)):
        open_chats.setdefault(agent_id, []).append(contact_id)
    contact_ids = [p.contact_id for *_, p in rows if p is not None and p.contact_id]
    contacts = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))} \
        if contact_ids else {}
    served = _queues_served()
    result = []
    for user_id, name, username, team_id, presence in rows:
        contact = contacts.get(presence.contact_id) if presence is not None and presence.contact_id else None
        result.append({
            "user_id": user_id, "name": name, "username": username, "team": teams.get(team_id, ""),
            "state": presence.state if presence else "logged_out",
            "reason": presence.reason if presence else None,
            "since": presence.since.isoformat() if presence and presence.since and presence.state != "logged_out"
            else None,
            "contact_id": presence.contact_id if presence else None,
            "contact": _contact_line(contact) if contact else None,
            "chats": len(open_chats.get(user_id, [])), "chat_ids": open_chats.get(user_id, []),
            "queues": served.get(user_id, []),
            "remote": bool(presence.remote) if presence else False,
        })
    return result


def _contact_line(contact: Contact) -> str:
    """What the agent is on, for the lead's eye: the queue and the caller's number, masked."""
    caller = contact.caller or ""
    masked = f"{caller[:3]}****{caller[-4:]}" if len(caller) >= 8 else caller or "未知号码"
    return f"{contact.queue.name if contact.queue else '来电'} · {masked}"


def _queues_served() -> dict[int, list[str]]:
    """Each agent's queues: those whose skill they hold at the queue's level."""
    served: dict[int, list[str]] = {}
    for user_id, code in db.session.execute(
            select(UserSkill.user_id, CallQueue.code).join(CallQueue, and_(
                CallQueue.skill_id == UserSkill.skill_id, UserSkill.level >= CallQueue.min_level))
            .where(CallQueue.active.is_(True)).order_by(CallQueue.code)):
        served.setdefault(user_id, []).append(code)
    return served


def queues(now: datetime) -> list[dict]:
    waiting = {queue_id: (count, oldest) for queue_id, count, oldest in db.session.execute(
        select(Contact.queue_id, func.count(Contact.id), func.min(Contact.queued_at))
        .where(Contact.state == "queued").group_by(Contact.queue_id))}
    ready = dict(db.session.execute(
        select(CallQueue.id, func.count(AgentPresence.user_id))
        .join(UserSkill, and_(UserSkill.skill_id == CallQueue.skill_id, UserSkill.level >= CallQueue.min_level))
        .join(AgentPresence, and_(AgentPresence.user_id == UserSkill.user_id, AgentPresence.state == "ready"))
        .group_by(CallQueue.id)).all())
    result = []
    for queue in db.session.scalars(select(CallQueue).where(CallQueue.active.is_(True))
                                    .order_by(CallQueue.ivr_digit, CallQueue.code)):
        count, oldest = waiting.get(queue.id, (0, None))
        longest = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        result.append({"code": queue.code, "name": queue.name,
                       "channel": "chat" if queue.code in chats.CHAT_QUEUES else "phone",
                       "waiting": count, "oldest": oldest.isoformat() if oldest else None,
                       "longest_wait": round(longest), "longest_level": THRESHOLDS["longest_wait"].level(longest)
                       if count else "", "ready": ready.get(queue.id, 0)})
    return result


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def call_figures(start: datetime, end: datetime) -> dict:
    """The calls that joined a queue in [start, end): offered, answered, abandoned, answer rate and
    service level (over those decided), handle and wrap-up times, survey satisfaction."""
    level_seconds = current_app.config["SERVICE_LEVEL_SECONDS"]
    answered = Contact.answered_at.is_not(None)
    # answered within the level: from joining the queue to the agent picking up (waiting + ringing)
    within = _count(and_(answered, Contact.wait_seconds + Contact.ring_seconds <= level_seconds))
    wrapping = select(AgentPresence.contact_id).where(AgentPresence.state == "after_call_work",
                                                      AgentPresence.contact_id.is_not(None))
    # handled to the end, wrap-up included: a call whose agent is still in 整理 is not counted yet
    finished = and_(answered, Contact.state == "ended", Contact.id.not_in(wrapping))
    phone = db.session.execute(
        select(func.count(Contact.id), _count(answered), _count(Contact.abandoned.is_(True)), within, _count(finished),
               func.avg(case((finished, Contact.talk_seconds + Contact.hold_seconds + Contact.acw_seconds))),
               func.avg(case((finished, Contact.acw_seconds))),
               _count(Contact.survey_score.in_(SATISFIED_SCORES)), _count(Contact.survey_score.is_not(None)))
        .where(Contact.channel == "phone", Contact.queued_at.is_not(None), Contact.started_at >= start,
               Contact.started_at < end)).one()
    offered, answered_n, abandoned, within_n, finished_n, handle, acw, satisfied, rated = (v or 0 for v in phone)
    decided = answered_n + abandoned  # still waiting or ringing: not decided yet
    figures = {
        "offered": offered, "answered": answered_n, "abandoned": abandoned,
        "answer_rate": _ratio(answered_n, decided), "service_level": _ratio(within_n, decided),
        "service_level_seconds": level_seconds,
        "handle_seconds": round(float(handle)) if finished_n else None,
        "acw_seconds": round(float(acw), 1) if finished_n else None,
        "satisfaction": _ratio(satisfied, rated), "rated": rated,
    }
    figures["levels"] = {name: THRESHOLDS[name].level(figures[name]) for name in
                         ("answer_rate", "service_level", "satisfaction", "acw_seconds", "abandoned")}
    return figures


def today(now: datetime) -> dict:
    """Today's figures so far (the hotline's day, in its time zone)."""
    start, end = local_day_bounds(local_today(now))
    figures = call_figures(start, end)
    chat = db.session.execute(
        select(func.count(Contact.id), _count(Contact.chat_rating.in_(("satisfied", "basic"))),
               _count(Contact.chat_rating.is_not(None)))
        .where(Contact.channel.in_(chats.CHANNELS), Contact.started_at >= start, Contact.started_at < end)).one()
    conversations, chat_satisfied, chat_rated = (v or 0 for v in chat)
    still_open = Ticket.status.not_in(OPEN_TICKET)
    figures["tickets_due_today"] = db.session.scalar(select(func.count(Ticket.id)).where(
        still_open, Ticket.handle_due_at >= start, Ticket.handle_due_at < end)) or 0
    figures["tickets_overdue"] = db.session.scalar(select(func.count(Ticket.id)).where(
        still_open, Ticket.sla_state.in_(("overdue", "major_event")))) or 0
    figures["chat_conversations"] = conversations
    figures["chat_satisfaction"] = _ratio(chat_satisfied, chat_rated)
    for name in ("chat_satisfaction", "tickets_overdue"):
        figures["levels"][name] = THRESHOLDS[name].level(figures[name])
    return figures


def surge(queue_rows: list[dict]) -> dict:
    """突发事件: too many waiting, or waiting too long, in any queue."""
    config = current_app.config
    waiting = sum(q["waiting"] for q in queue_rows)
    longest = max((q["longest_wait"] for q in queue_rows if q["waiting"]), default=0)
    active = waiting >= config["SURGE_WAITING"] or longest >= config["SURGE_WAIT_SECONDS"]
    return {"active": active, "waiting": waiting, "longest_wait": longest,
            "limit_waiting": config["SURGE_WAITING"], "limit_seconds": config["SURGE_WAIT_SECONDS"]}


def snapshot(now: datetime) -> dict:
    queue_rows = queues(now)
    import time

    from app.monitor import broadcasts

    # `stamp` (wall clock, as the pushes carry): a board keeps an agent's pushed state newer than this
    return {"at": now.isoformat(), "stamp": time.time(), "agents": agents(), "queues": queue_rows, "today": today(now),
            "surge": surge(queue_rows), "broadcast": broadcasts.latest_payload(now),
            "states": AGENT_STATES, "reasons": NOT_READY_LABELS}


def shared_snapshot(now: datetime) -> str:
    """The snapshot as JSON, computed at most once per moment for all boards (any process)."""
    import redis

    from app.redis_client import get_redis

    try:
        cached = get_redis().get(SNAPSHOT_KEY)
    except redis.RedisError:
        cached = None
    if cached:
        return cached.decode() if isinstance(cached, bytes) else cached
    body = json.dumps(snapshot(now), ensure_ascii=False)
    try:
        get_redis().set(SNAPSHOT_KEY, body, px=SNAPSHOT_MS)
    except redis.RedisError:
        pass
    return body
