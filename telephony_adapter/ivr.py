"""The voice menu (语音导航): what the media component playing it asks after each key.

The media component (the switch's IVR) knows no menu: it plays the prompt it is given, collects
one key (RFC 2833) and asks `next_step` what to do. A wrong key is forgiven twice; the third
sends the caller to the menu's first queue, so nobody is stuck in the menu. Each key pressed is an
`ivr` event on the call, so the path shows on the call record and the screen pop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Contact, IvrNode
from telephony_adapter import calls
from telephony_adapter.events import CallEvent

WRONG_KEYS_FORGIVEN = 2


def root() -> IvrNode | None:
    return db.session.scalar(select(IvrNode).where(IvrNode.parent_id.is_(None)).order_by(IvrNode.id))


def children(node: IvrNode) -> list[IvrNode]:
    return list(db.session.scalars(select(IvrNode).where(IvrNode.parent_id == node.id).order_by(IvrNode.digit)))


def _first_queue(node: IvrNode) -> IvrNode | None:
    for child in children(node):
        if child.kind == "queue":
            return child
        found = _first_queue(child) if child.kind == "menu" else None
        if found is not None:
            return found
    return None


def next_step(source: str, call_id: str, digit: str | None, at: datetime) -> dict:
    """The answer for the media component: `prompt` (play, collect a key), `queue` (to the ACD: dial
    acd-<contact_id>), `message` (play, then hang up) or `hangup` (after a callback request). While
    the call waits in the queue: `wait`, or past the queue's longest wait `offer_callback`; while
    the agent talks: `pause`; once the agent hung up: `survey`, then `hangup`."""
    contact = db.session.scalar(select(Contact).where(Contact.source == source, Contact.call_id == call_id))
    if contact is not None and contact.state in ("queued", "offered"):
        return _while_waiting(source, contact, digit, at)
    if contact is not None and contact.state in ("talking", "held"):
        return {"action": "pause"}  # the agent's hang-up is on its way: ask again in a moment
    if contact is not None and contact.state == "ended":
        return _after_the_agent(source, contact, digit, at)
    menu = root()
    if contact is None or contact.state != "ivr" or menu is None:
        return {"action": "error", "text": "未知的通话或没有语音导航菜单"}
    here = db.session.get(IvrNode, contact.ivr_node_id) if contact.ivr_node_id else menu
    if digit is None:
        contact.ivr_node_id = here.id
        db.session.commit()
        return {"action": "prompt", **_voice(here)}
    chosen = next((child for child in children(here) if child.digit == digit), None)
    if chosen is None:
        contact.ivr_misses += 1
        if contact.ivr_misses <= WRONG_KEYS_FORGIVEN:
            db.session.commit()
            return {"action": "prompt", **_voice(here, lead="您的输入有误。")}
        chosen = _first_queue(menu)
        if chosen is None:
            db.session.commit()
            return {"action": "message", "text": "暂时无法为您转接，请稍后再拨。"}
    path_key = contact.ivr_path.count(">") + 1 if contact.ivr_path else 0
    contact.ivr_node_id = chosen.id
    db.session.commit()
    calls.ingest(CallEvent(source, f"{call_id}:ivr:{path_key}", "ivr", call_id, at, {"digit": digit}))
    return _arrive(source, call_id, chosen, at)


CALLBACK_KEY = "1"


def _while_waiting(source: str, contact: Contact, digit: str | None, at: datetime) -> dict:
    """The caller waits in the queue: past the queue's longest wait they are offered a callback
    request (预约回拨), taken with one key; before that they hear that they are being connected."""
    queue = contact.queue
    if contact.state == "offered":
        return {"action": "wait", "text": "正在为您接通坐席，请稍候。"}
    waited = (at - contact.queued_at).total_seconds() if contact.queued_at else 0.0
    limit = queue.max_wait_seconds if queue is not None else 0
    if not limit or waited < limit:
        return {"action": "wait", "text": "坐席正忙，请您耐心等待，我们将尽快为您接通。"}
    if digit == CALLBACK_KEY:
        calls.ingest(CallEvent(source, f"{contact.call_id}:callback", "callback_requested", contact.call_id, at, {}))
        return {"action": "hangup", "text": "已为您登记预约回拨，我们将尽快回电。"}
    return {"action": "offer_callback", "key": CALLBACK_KEY,
            "text": f"您已等待{int(waited)}秒。继续等待请不要挂机，预约回拨请按{CALLBACK_KEY}。"}


def _arrive(source: str, call_id: str, node: IvrNode, at: datetime) -> dict:
    if node.kind == "menu":
        return {"action": "prompt", **_voice(node)}
    if node.kind == "queue" and node.queue is not None:
        outcome = calls.ingest(CallEvent(source, f"{call_id}:queued", "queued", call_id, at, {"queue": node.queue.code}))
        return {"action": "queue", "queue": node.queue.code, **_voice(node), "offered_to": outcome.offered_to,
                "contact_id": outcome.contact.id if outcome.contact is not None else None}
    if node.kind == "callback":
        calls.ingest(CallEvent(source, f"{call_id}:callback", "callback_requested", call_id, at, {}))
        return {"action": "hangup", **_voice(node, default="已为您登记预约回拨，我们将尽快回电。")}
    return {"action": "message", **_voice(node)}


def _voice(node: IvrNode, lead: str = "", default: str = "") -> dict:
    """What the caller hears for an entry: its text, and its recording when a manager uploaded one
    (the media component then plays `lead` spoken, then the recording, fetched once per version)."""
    said = {"text": f"{lead}{node.prompt or default}"}
    if node.audio_hash:
        said.update(audio=f"/cti/ivr/audio/{node.id}?v={node.audio_hash}", lead=lead)
    return said


SURVEY_PROMPT = "感谢您的来电。请对本次服务进行评价：非常满意请按1，满意请按2，不满意请按3，非常不满意请按4。"
SURVEY_THANKS = "感谢您的评价，再见。"


def _after_the_agent(source: str, contact: Contact, digit: str | None, at: datetime) -> dict:
    """The agent hung up and the caller is still on the line: the post-call survey (满意度评价).
    A key 1–4 is the rating (a `survey_result` event, delivered to the call's ticket); any other
    key is asked again (the media component stops asking after a few tries without an answer); a
    call that never reached an agent just ends."""
    if contact.answered_at is None or contact.survey_score is not None:
        return {"action": "hangup", "text": ""}
    if digit is None:
        return {"action": "survey", "text": SURVEY_PROMPT}
    if digit in "1234":
        calls.ingest(CallEvent(source, f"{contact.call_id}:survey", "survey_result", contact.call_id, at,
                               {"score": int(digit)}))
        return {"action": "hangup", "text": SURVEY_THANKS}
    return {"action": "survey", "text": f"您的输入有误。{SURVEY_PROMPT}"}
