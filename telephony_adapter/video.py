"""视频服务: a citizen's video session with an agent. It is a conversation (channel ``video``) like
a web chat — queued, given to an agent with the ``video`` skill, its side chat is chat messages —
and its picture and sound go straight between the two browsers (WebRTC). The platform only relays
the two session descriptions (offer and answer, each with its candidates gathered) over the push
channels both sides already hold; it never carries media.

The citizen is asked first whether the session may be recorded; the answer is kept on the contact.
Where they agreed, the agent's browser records the session (the citizen's picture, both voices) and
hands the WebM file to the platform when the session ends; it is kept in the recordings folder and
every viewing is audited, like a call's recording."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

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
    return db.session.get(Contact, row.contact_id)


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


WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # the EBML header every WebM file starts with


def recordings_folder() -> Path:
    """HOTLINE_RECORDINGS_DIR, or the instance folder's recordings/ in the embedded set-up."""
    from flask import current_app

    return Path(current_app.config.get("RECORDINGS_DIR") or Path(current_app.instance_path) / "recordings")


def save_recording(user, contact: Contact, data: bytes, ip: str | None) -> str:
    """Keep the session's recording, only if the citizen agreed; audited. Returns its path in the
    recordings folder."""
    from workflows import audit_trail

    if contact.channel != "video" or contact.agent_id != user.id:
        raise VideoRefused("该视频会话不在您的名下")
    if not contact.recording_consent:
        raise VideoRefused("市民未同意录音录像，不能保存录像")
    if not data.startswith(WEBM_MAGIC):
        raise VideoRefused("录像须为 WebM 文件", 422)
    relative = f"video/{contact.id}-{uuid.uuid4().hex[:12]}.webm"
    path = recordings_folder() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    contact.recording = relative
    audit_trail.append(audit_trail.Actor.of(user, ip), "video.recorded",
                       summary=f"保存视频服务录像（会话 {contact.id}，{len(data) // 1024} KB）",
                       data={"contact_id": contact.id, "file": relative, "bytes": len(data)})
    db.session.commit()
    return relative


def play_recording(user, contact: Contact, ip: str | None) -> bytes:
    """A video session's recording; the viewing is audited (who, when, from where, which session)."""
    from telephony_adapter import recordings
    from workflows import audit_trail

    if contact.channel != "video" or not contact.recording:
        raise VideoRefused("该会话没有录像")
    try:
        data = recordings.resolve(recordings_folder(), contact.recording).read_bytes()
    except (ValueError, OSError) as exc:
        raise VideoRefused("录像文件不存在") from exc
    audit_trail.append(audit_trail.Actor.of(user, ip), "recording.play",
                       summary=f"查看视频服务录像（会话 {contact.id}）",
                       data={"contact_id": contact.id, "ticket_id": contact.ticket_id})
    db.session.commit()
    return data
