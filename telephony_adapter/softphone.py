"""浏览器软电话: an agent's browser as their phone.

The browser (JsSIP, SIP over WebSocket) registers with Kamailio as the agent. Kamailio has no
accounts of its own, so the platform signs a token for the signed-in agent and Kamailio asks the
platform whether a registration's token is good (`registration_allowed`). Media: rtpengine turns
the caller's RTP into WebRTC toward the browser (telephony_adapter/sip/kamailio.cfg).

While a call lasts, the browser reports what WebRTC measured (packets received and lost, jitter,
round-trip time); `record_quality` keeps them per call and grades the connection."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.auth.permissions import can
from app.extensions import db
from app.models import CallQuality, Contact, User
from app.refusals import Refused
from telephony_adapter import kamailio, video

log = logging.getLogger(__name__)
SIGNING_SALT = "hotline.softphone"  # separates these signatures from the session cookie's
TOKEN_SECONDS = 12 * 3600  # one working day; the page asks for a fresh one whenever it loads
LATE_SAMPLE = timedelta(minutes=2)  # the last report may arrive just after the caller hung up
# 连接质量: (packet loss %, jitter ms, round-trip ms) at or under which a call is 良好, then 一般;
# above the second line it is 较差 (ITU-T G.114 puts one-way delay over 150 ms as noticeable).
GOOD = (1.0, 30.0, 300.0)
FAIR = (5.0, 50.0, 500.0)
GRADES = {"good": "良好", "fair": "一般", "poor": "较差"}


class SampleInvalid(Refused):
    """The browser's report cannot be read or is not the agent's to send."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SIGNING_SALT)


def enabled() -> bool:
    return bool(current_app.config.get("SOFTPHONE_WS_URL"))


def credentials(user: User) -> dict:
    """What the softphone page needs to register as `user`."""
    domain = current_app.config.get("SIP_DOMAIN") or "127.0.0.1"
    return {"ws_url": current_app.config["SOFTPHONE_WS_URL"], "uri": f"sip:{user.username}@{domain}",
            "display_name": user.display_name, "token": _serializer().dumps({"u": user.id, "n": user.username}),
            "ice_servers": video.ice_servers()}


def registration_allowed(username: str, token: str) -> bool:
    """Kamailio's question for a browser's REGISTER: is the token ours, young enough, for this
    agent, and may the agent still take calls?"""
    try:
        data = _serializer().loads(token, max_age=TOKEN_SECONDS)
    except BadSignature:
        return False
    if not isinstance(data, dict) or data.get("n") != username:
        return False
    user = db.session.get(User, data.get("u"))
    return user is not None and user.username == username and user.active and can(user, "calls.work")


@dataclass(frozen=True)
class Sample:
    """One report: cumulative packet counts since the call was answered, jitter and round-trip now."""

    packets_received: int
    packets_lost: int
    jitter_ms: float
    rtt_ms: float | None


def parse_sample(body: object) -> tuple[str, Sample]:
    """(SIP Call-ID, sample) from the browser's JSON, or SampleInvalid."""
    if not isinstance(body, dict):
        raise SampleInvalid("请求体须为 JSON 对象")
    call_id = body.get("call_id")
    if not isinstance(call_id, str) or not 0 < len(call_id.strip()) <= 128:
        raise SampleInvalid("call_id 须为通话的 SIP Call-ID")

    def number(name: str, upper: float, required: bool = True) -> float | None:
        value = body.get(name)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or not 0 <= value <= upper:
            raise SampleInvalid(f"{name} 须为 0 到 {upper:g} 之间的数")
        return float(value)

    sample = Sample(int(number("packets_received", 1e9)), int(number("packets_lost", 1e9)),
                    number("jitter_ms", 60_000.0), number("rtt_ms", 60_000.0, required=False))
    return call_id.strip(), sample


def record_quality(user: User, call_id: str, sample: Sample, at: datetime) -> CallQuality:
    """Add one sample to the call's quality, in one transaction. Only the agent on the call may
    report it, while it lasts or just after it ended."""
    leg = kamailio.contact_call_id(call_id)
    contact = db.session.scalar(select(Contact).where(Contact.call_id == leg, Contact.agent_id == user.id))
    if contact is None:
        raise SampleInvalid("没有这通由您接听的电话")
    if contact.state not in ("talking", "held", "ended") or (
            contact.ended_at is not None and at - contact.ended_at > LATE_SAMPLE):
        raise SampleInvalid("这通电话不在通话中")
    row = db.session.scalar(select(CallQuality).where(CallQuality.contact_id == contact.id).with_for_update())
    if row is None:
        row = CallQuality(contact_id=contact.id, agent_id=user.id, samples=0, packets_received=0, packets_lost=0,
                          jitter_ms_sum=0.0, jitter_ms_max=0.0, rtt_samples=0, rtt_ms_sum=0.0, rtt_ms_max=0.0,
                          first_at=at)
        db.session.add(row)
    # The counts are cumulative: a report that arrives late (older) must not lower them.
    row.packets_received = max(row.packets_received, sample.packets_received)
    row.packets_lost = max(row.packets_lost, sample.packets_lost)
    row.samples += 1
    row.jitter_ms_sum += sample.jitter_ms
    row.jitter_ms_max = max(row.jitter_ms_max, sample.jitter_ms)
    if sample.rtt_ms is not None:
        row.rtt_samples += 1
        row.rtt_ms_sum += sample.rtt_ms
        row.rtt_ms_max = max(row.rtt_ms_max, sample.rtt_ms)
    row.last_at = at
    db.session.commit()
    log.info("call quality contact=%s agent=%s received=%s lost=%s jitter_ms=%.1f rtt_ms=%s grade=%s", contact.id,
             user.username, row.packets_received, row.packets_lost, sample.jitter_ms,
             "-" if sample.rtt_ms is None else f"{sample.rtt_ms:.0f}", grade(row))
    return row


def grade(row: CallQuality) -> str:
    """good / fair / poor: the worst of loss, mean jitter and mean round-trip decides."""
    figures = (row.loss_pct, row.jitter_ms, row.rtt_ms or 0.0)
    if all(value <= limit for value, limit in zip(figures, GOOD, strict=True)):
        return "good"
    if all(value <= limit for value, limit in zip(figures, FAIR, strict=True)):
        return "fair"
    return "poor"


def summary(row: CallQuality) -> dict:
    """The figures the softphone and the call record show."""
    rtt = row.rtt_ms
    return {"grade": grade(row), "grade_label": GRADES[grade(row)], "loss_pct": round(row.loss_pct, 2),
            "jitter_ms": round(row.jitter_ms, 1), "rtt_ms": None if rtt is None else round(rtt),
            "packets_received": row.packets_received, "packets_lost": row.packets_lost, "samples": row.samples}
