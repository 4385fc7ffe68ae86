"""视频服务: a citizen's video session with an agent. It is a conversation (channel ``video``) like
a web chat — queued, given to an agent with the ``video`` skill, its side chat is chat messages —
and its picture and sound go straight between the two browsers (WebRTC). The platform only relays
the two session descriptions (offer and answer, each with its candidates gathered) over the push
channels both sides already hold; it never carries media.

The citizen is asked first whether the session may be recorded; the answer is kept on the contact."""

from __future__ import annotations

import json
from datetime import datetime

from app.extensions import db
from app.models import Contact
from app.refusals import Refused
from telephony_adapter import chats, push
from telephony_adapter.wechat import InboundMessage

MAX_SDP = 20_000  # a session description with its candidates is a few kB


def ice_servers() -> list:
    """The STUN / TURN servers the two browsers may use (HOTLINE_ICE_SERVERS, the JSON of
    RTCConfiguration.iceServers); none when both are on one network."""
    from flask import current_app

    return json.loads(current_app.config.get("ICE_SERVERS") or "[]")


class VideoRefused(Refused):
    """A video request or signal that cannot be taken: `status` 422 for what was sent wrong, 409 for
    a session not in the state to take it."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def request(party: str, language: str, consent: bool, at: datetime, key: str) -> Contact:
    """The citizen asks for a video agent: the conversation opens (or is the one already open) with
    their answer to recording. `key` makes a repeated request harmless."""
    row, _new = chats.receive(InboundMessage("video", party, f"{party}:{key}", "event", "视频服务请求", at,
                                             data={"event": "video_request", "consent": consent}, language=language))
    if row is None:
        raise VideoRefused("无法发起视频服务")
    contact = db.session.get(Contact, row.contact_id)
    contact.recording_consent = consent
    db.session.commit()
    return contact


def description(value) -> dict:
    """A session description as the browser made it, checked at the edge."""
    if (not isinstance(value, dict) or value.get("type") not in ("offer", "answer")
            or not isinstance(value.get("sdp"), str) or not 0 < len(value["sdp"]) <= MAX_SDP):
        raise VideoRefused("视频信令格式不正确", 422)
    return {"type": value["type"], "sdp": value["sdp"]}


def to_citizen(contact: Contact, user_id: int, value) -> None:
    """The agent's offer, to the citizen's page."""
    if contact.channel != "video" or contact.agent_id != user_id or contact.state != "talking":
        raise VideoRefused("该视频会话不在您的名下")
    push.publish_to(chats.visitor_channel("video", contact.party), "signal",
                    {"contact_id": contact.id, "description": description(value)})


def to_agent(contact: Contact | None, value, at: datetime) -> None:
    """The citizen's answer, to the agent who holds the session. The citizen answering the agent's
    call is the agent's first response (首次应答), as a first reply is in a text chat."""
    if contact is None or contact.channel != "video" or contact.agent_id is None or contact.state != "talking":
        raise VideoRefused("坐席尚未接入")
    checked = description(value)
    if contact.answered_at is None:
        contact.answered_at = at
    agent_id, contact_id = contact.agent_id, contact.id
    db.session.commit()
    push.publish(agent_id, "video", {"contact_id": contact_id, "description": checked})
    push.publish(agent_id, "chat", {"contact_id": contact_id})  # the console's clocks: answered
