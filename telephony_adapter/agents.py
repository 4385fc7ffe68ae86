"""What an agent does with their state, and what the platform does for them: one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import AgentPresence, Contact
from telephony_adapter import acd, presence, push


@dataclass
class StateChange:
    presence: AgentPresence
    offered: Contact | None  # a waiting call the agent got on becoming ready


def set_state(user_id: int, state: str, now: datetime, reason: str | None = None,
              address: str | None = None) -> StateChange:
    """示闲 / 示忙 / 签出 (or 整理完成: ready from after-call work), from `address` when the agent
    chose it on their bar. A waiting call goes to an agent who becomes ready at once."""
    row = presence.presence(user_id, lock=True)
    presence.note_location(row, address)
    if row.state == "after_call_work" and state == "ready":
        _end_after_call_work(row, now)
    else:
        row = presence.choose(user_id, state, now, reason, row)
    offered = acd.agent_available(user_id, now, row) if state == "ready" else None
    offered_id = offered.id if offered is not None else None
    db.session.commit()
    if offered is not None:
        _offered(user_id, offered_id, offered)
    elif state == "ready":  # free for calls and none waiting: the conversations waiting take their turn
        from telephony_adapter import chats

        chats.assign_waiting(user_id, now)
    return StateChange(row, offered)


def _offered(user_id: int, contact_id: int, contact: Contact) -> None:
    """After the commit: the screen pop, and the switch told to ring the agent if it holds the call."""
    from flask import current_app

    from telephony_adapter import kamailio

    push.publish(user_id, "offer", {"contact_id": contact_id})
    kamailio.connect(contact, current_app.config.get("KAMAILIO_XHTTP_URL"))


def _end_after_call_work(row: AgentPresence, end: datetime) -> None:
    contact = db.session.get(Contact, row.contact_id) if row.contact_id else None
    if contact is not None:
        contact.acw_seconds = max(0.0, (end - row.since).total_seconds())
    presence.move(row, "ready", end, idle_since=end)


def expire_after_call_work(now: datetime) -> int:
    """Agents whose after-call work ran out return to ready as of the moment it ran out (not the
    moment this job noticed), then get a waiting call if there is one. Returns how many."""
    count = 0
    for user_id in presence.due_after_call_work(now):
        row = presence.presence(user_id, lock=True)
        if row.state != "after_call_work" or row.acw_until is None or row.acw_until > now:
            db.session.rollback()
            continue
        _end_after_call_work(row, row.acw_until)
        offered = acd.agent_available(user_id, now, row)
        offered_id = offered.id if offered is not None else None
        db.session.commit()
        push.publish(user_id, "presence", {})
        if offered is not None:
            _offered(user_id, offered_id, offered)
        count += 1
    return count
