"""A conversation becoming a ticket (转为工单): the intake filled from what the citizen wrote, and the
whole transcript attached to the ticket once it is recorded."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Contact, Ticket, User
from telephony_adapter import chats


def own_conversation(user: User, contact_id: int | None) -> Contact | None:
    contact = db.session.get(Contact, contact_id) if contact_id else None
    return contact if contact is not None and chats.belongs_to(contact, user.id) else None


def intake_prefill(user: User, contact_id: int | None) -> dict:
    """受理来电 opened from a conversation: its channel, a subject from the first question and the
    citizen's messages as the content."""
    contact = own_conversation(user, contact_id)
    if contact is None:
        return {}
    said = [m.text for m in chats.transcript(contact) if m.direction == "in" and m.kind != "event" and m.text]
    if not said:
        return {"channel": contact.channel}
    subject = said[0].replace("\n", " ")
    return {"channel": contact.channel, "subject": subject[:40], "content": "\n".join(said)[:4000]}


def transcript_text(contact: Contact) -> str:
    from app.timefmt import local_time

    names = {"in": "市民", "out": "坐席"}
    lines = [f"会话记录（{contact.channel}，{contact.party}）"]
    for m in chats.transcript(contact):
        lines.append(f"[{local_time(m.created_at, '%Y-%m-%d %H:%M:%S')}] {names[m.direction]}：{m.text}")
    return "\n".join(lines) + "\n"


def attach_transcript(user: User, contact_id: int | None, ticket: Ticket, ip: str | None) -> None:
    """After the ticket is recorded from the conversation: the transcript as a text attachment."""
    from app.tickets import attachments
    from workflows.audit_trail import Actor

    contact = own_conversation(user, contact_id)
    if contact is None or contact.ticket_id != ticket.id:
        return
    upload = FileStorage(io.BytesIO(transcript_text(contact).encode()), filename=f"会话记录-{contact.id}.txt")
    attachments.add(ticket, user, upload, Actor(user.id, user.username, "agent", ip))


def read_transcript(user: User, contact: Contact, ip: str | None) -> list:
    """A conversation read from 会话记录 (QA, team leads, auditors): what the citizen wrote may hold
    their personal details, so the reading is audited like playing a call's recording."""
    from workflows import audit_trail

    audit_trail.append(audit_trail.Actor.of(user, ip), "chat.transcript_read",
                       summary=f"查看会话记录（{contact.channel}，用户 {contact.party}）",
                       data={"contact_id": contact.id, "ticket_id": contact.ticket_id})
    db.session.commit()
    return chats.transcript(contact)
