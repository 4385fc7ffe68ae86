"""Calls as contacts (来电记录): each switch event moves one call's state machine, once.

`ingest` is one transaction: the event's receipt, the contact, the agents' presence and any ACD
decision commit together. A repeated event id changes nothing; an event that does not fit the
call's state is kept as ignored, with the reason."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CallQueue, Contact, ContactEvent, User
from telephony_adapter import acd, presence, push
from telephony_adapter.events import APPLIES_IN, SURVEY_SCORES, CallEvent

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    result: str  # applied, ignored, duplicate
    contact: Contact | None
    note: str | None = None
    offered_to: int | None = None  # the agent the ACD reserved for this call, if it did
    handed_over_by: int | None = None  # the agent who transferred the call away, told after the commit


class _Ignored(Exception):
    pass


def ingest(event: CallEvent) -> Outcome:
    """Apply one switch event and commit."""
    if db.session.scalar(select(ContactEvent.id).where(ContactEvent.source == event.source,
                                                       ContactEvent.event_id == event.event_id)) is not None:
        return Outcome("duplicate", _contact(event.source, event.call_id))
    contact = _contact(event.source, event.call_id, lock=True)
    outcome = Outcome("applied", contact)
    try:
        if event.kind == "incoming":
            if contact is not None:
                raise _Ignored("该通话已登记")
            contact = outcome.contact = _incoming(event)
        elif contact is None:
            raise _Ignored("未知的通话（没有来电事件）")
        elif contact.state not in APPLIES_IN[event.kind]:
            raise _Ignored(f"通话当前状态“{contact.state_label}”下不适用")
        else:
            before = contact.agent_id
            outcome.offered_to = APPLY[event.kind](contact, event)
            if event.kind == "transferred" and before != contact.agent_id:
                outcome.handed_over_by = before
    except _Ignored as why:
        outcome.result, outcome.note = "ignored", str(why)
    db.session.add(ContactEvent(source=event.source, event_id=event.event_id, kind=event.kind,
                                contact_id=contact.id if contact is not None else None, occurred_at=event.at,
                                outcome=outcome.result, note=outcome.note,
                                data_json=json.dumps(event.data, ensure_ascii=False) if event.data else None))
    # Read before the commit expires them: the announcements need no second look at the row.
    ids = (contact.id, contact.agent_id) if contact is not None else (None, None)
    try:
        db.session.commit()
    except IntegrityError:  # the same event arrived twice at the same moment: the other one won
        db.session.rollback()
        return Outcome("duplicate", _contact(event.source, event.call_id))
    _announce(outcome, event, *ids)
    return outcome


def _announce(outcome: Outcome, event: CallEvent, contact_id: int | None, agent_id: int | None) -> None:
    """After the commit: the screen pop to the agent the call was offered to, and the new state
    to the agent whose state the event changed."""
    contact = outcome.contact
    if outcome.result != "applied" or contact is None:
        return
    if outcome.offered_to is not None:
        push.publish(outcome.offered_to, "offer", {"contact_id": contact_id})
    if agent_id is not None and event.kind in ("answered", "held", "resumed", "hangup", "transferred"):
        push.publish(agent_id, "presence", {"contact_id": contact_id})
    if outcome.handed_over_by is not None:  # their bar goes to after-call work
        push.publish(outcome.handed_over_by, "presence", {"contact_id": contact_id})
    if event.kind == "callback_requested":
        _open_callback_ticket(contact)
    if event.kind == "survey_result" and contact.ticket_id is not None:  # rare: the reload is fine here
        from workflows.engine import StepRefused

        try:
            deliver_survey(contact)
        except StepRefused as exc:  # kept on the call record; the ticket's own callback still asks
            log.warning("survey of call %s not delivered to ticket %s: %s", contact.id, contact.ticket_id, exc.message)


def _open_callback_ticket(contact: Contact) -> None:
    """A ticket for the callback, waiting in the agents' pool for dispatch, linked to the call."""
    from workflows import engine
    from workflows.audit_trail import Actor

    queue = contact.queue.name if contact.queue is not None else "人工服务"
    intake = {"channel": "phone", "category": "help", "urgency": "normal", "caller_phone": contact.caller or "",
              "subject": f"预约回拨：{queue}",
              "content": f"来电者在“{queue}”队列等待 {contact.wait_seconds:.0f} 秒后选择预约回拨，请尽快回电并记录诉求。"}
    try:
        ticket = engine.start_ticket(intake, Actor.system("ivr"))
    except engine.StepRefused as exc:  # the call record keeps the request; nothing else is lost
        log.error("callback ticket for call %s not opened: %s", contact.id, exc.message)
        return
    contact = db.session.get(Contact, contact.id)
    contact.ticket_id = ticket.id
    db.session.commit()


def deliver_survey(contact: Contact) -> str:
    """The caller's rating reaches the ticket recorded from the call as its satisfaction message;
    the message id is the call's, so a repeated delivery changes nothing."""
    satisfaction, label = SURVEY_SCORES[contact.survey_score]
    return deliver_satisfaction(contact.ticket_id, satisfaction, label, "ivr_survey",
                                f"survey:{contact.source}:{contact.call_id}", "ivr")


def deliver_satisfaction(ticket_id: int, satisfaction: str, label: str, source: str, message_id: str,
                         system: str) -> str:
    """A citizen's rating given on a channel (the call's survey, the chat's rating) as the ticket's
    satisfaction message — the same message its callback step waits for."""
    from workflows import engine
    from workflows.audit_trail import Actor

    return engine.deliver_message(ticket_id, "satisfaction_received",
                                  {"satisfaction": satisfaction, "source": source, "score_label": label},
                                  message_id, Actor.system(system))


def _contact(source: str, call_id: str, lock: bool = False) -> Contact | None:
    query = select(Contact).where(Contact.source == source, Contact.call_id == call_id)
    return db.session.scalar(query.with_for_update() if lock else query)


def _incoming(event: CallEvent) -> Contact:
    caller = str(event.data.get("caller") or "")[:32] or None
    contact = Contact(source=event.source, call_id=event.call_id, caller=caller,
                      dialled=str(event.data.get("dialled") or "")[:32] or None, state="ivr", started_at=event.at,
                      ivr_path="")
    if caller:
        since = event.at - timedelta(hours=current_app.config["REPEAT_CALLER_HOURS"])
        earlier = db.session.scalar(select(func.count(Contact.id)).where(Contact.caller == caller,
                                                                         Contact.started_at >= since))
        contact.priority = -1 if earlier else 0  # a repeat caller is served first
    db.session.add(contact)
    db.session.flush()
    return contact


def _ivr(contact: Contact, event: CallEvent) -> None:
    contact.ivr_path = f"{contact.ivr_path}>{event.data['digit']}" if contact.ivr_path else event.data["digit"]


def _queue_for(contact: Contact, event: CallEvent) -> CallQueue | None:
    code = event.data.get("queue")
    if code:
        return db.session.scalar(select(CallQueue).where(CallQueue.code == str(code), CallQueue.active.is_(True)))
    digit = contact.ivr_path.split(">")[-1] if contact.ivr_path else None
    for queue in db.session.scalars(select(CallQueue).where(CallQueue.active.is_(True)).order_by(CallQueue.id)):
        if (digit and queue.ivr_digit == digit) or (contact.dialled and queue.dialled_number == contact.dialled):
            return queue
    return None


def _queued(contact: Contact, event: CallEvent) -> int | None:
    queue = _queue_for(contact, event)
    if queue is None:
        raise _Ignored("找不到对应的队列")
    contact.state, contact.queue_id, contact.queued_at = "queued", queue.id, event.at
    agent = acd.route_contact(contact, event.at)
    return agent.user_id if agent is not None else None


def _agent_named(event: CallEvent) -> User:
    name = event.data.get("agent")
    user = db.session.scalar(select(User).where(User.username == str(name))) if name else None
    if user is None:
        raise _Ignored("事件中的坐席不存在")
    return user


def _offered(contact: Contact, event: CallEvent) -> int:
    """The switch chose the agent itself (a site whose switch runs its own queues)."""
    user = _agent_named(event)
    acd.offer(contact, presence.presence(user.id, lock=True), event.at)
    return user.id


def _answered(contact: Contact, event: CallEvent) -> None:
    if event.data.get("agent"):
        user = _agent_named(event)
        if contact.agent_id != user.id:
            acd.offer(contact, presence.presence(user.id, lock=True), contact.offered_at or event.at)
    if contact.agent_id is None:
        raise _Ignored("接听事件没有坐席")
    contact.ring_seconds = _seconds(contact.offered_at, event.at)
    contact.state, contact.answered_at = "talking", event.at
    presence.move(presence.presence(contact.agent_id, lock=True), "talking", event.at, contact_id=contact.id)


def _held(contact: Contact, event: CallEvent) -> None:
    contact.state, contact.held_at = "held", event.at
    presence.move(presence.presence(contact.agent_id, lock=True), "held", event.at, contact_id=contact.id)


def _resumed(contact: Contact, event: CallEvent) -> None:
    contact.hold_seconds += _seconds(contact.held_at, event.at)
    contact.state, contact.held_at = "talking", None
    presence.move(presence.presence(contact.agent_id, lock=True), "talking", event.at, contact_id=contact.id)


def _transferred(contact: Contact, event: CallEvent) -> None:
    target = _agent_named(event)
    if contact.held_at is not None:
        _resumed(contact, event)
    presence.start_after_call_work(presence.presence(contact.agent_id, lock=True), contact.id, event.at)
    contact.agent_id = target.id
    if event.data.get("leg_call_id"):  # the media component now carries the caller to the target on this leg
        contact.leg_call_id = str(event.data["leg_call_id"])[:128]
    presence.move(presence.presence(target.id, lock=True), "talking", event.at, contact_id=contact.id)


PHONE_UNREGISTERED = "agent_unregistered"  # the hangup cause the switch reports when the agent's phone is gone


def _hangup(contact: Contact, event: CallEvent) -> None:
    if contact.held_at is not None:
        contact.hold_seconds += _seconds(contact.held_at, event.at)
        contact.held_at = None
    contact.hangup_cause = str(event.data.get("cause") or "normal")[:64]
    if contact.answered_at is not None:
        contact.talk_seconds = max(0.0, _seconds(contact.answered_at, event.at) - contact.hold_seconds)
        presence.start_after_call_work(presence.presence(contact.agent_id, lock=True), contact.id, event.at)
    else:
        if contact.queued_at is not None:
            contact.abandoned = True  # the caller gave up waiting (放弃呼叫)
            contact.wait_seconds = _seconds(contact.queued_at, contact.offered_at or event.at)
        if contact.state == "offered":
            contact.ring_seconds = _seconds(contact.offered_at, event.at)
            agent = presence.presence(contact.agent_id, lock=True)
            if contact.hangup_cause == PHONE_UNREGISTERED:
                # The switch found no phone registered for them: the next call would fail the same
                # way, so they stop being offered calls until they press 示闲 again.
                presence.move(agent, "not_ready", event.at, reason="phone_unregistered")
            else:
                presence.move(agent, "ready", event.at, idle_since=agent.idle_since)  # back to ready, keeps their turn
    contact.state, contact.ended_at = "ended", event.at


def _recording(contact: Contact, event: CallEvent) -> None:
    reference = event.data.get("file") or event.data.get("recording")
    if not reference:
        raise _Ignored("录音事件没有文件")
    contact.recording = str(reference)[:255]


def _survey(contact: Contact, event: CallEvent) -> None:
    contact.survey_score = event.data["score"]


def _callback_requested(contact: Contact, event: CallEvent) -> None:
    """The caller chose to leave a callback request (预约回拨) instead of waiting on: the call ends
    (not as abandoned) and a ticket is opened after the commit (`_open_callback_ticket`)."""
    if contact.queued_at is not None:
        contact.wait_seconds = _seconds(contact.queued_at, event.at)
    contact.state, contact.ended_at, contact.hangup_cause = "ended", event.at, "callback_requested"


APPLY = {"ivr": _ivr, "queued": _queued, "offered": _offered, "answered": _answered, "held": _held,
         "resumed": _resumed, "transferred": _transferred, "dtmf": lambda contact, event: None, "hangup": _hangup,
         "recording_ready": _recording, "survey_result": _survey,
         "callback_requested": _callback_requested}


def survey_satisfaction(score: int) -> str:
    return SURVEY_SCORES[score][0]


def _seconds(start: datetime | None, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds()) if start else 0.0
