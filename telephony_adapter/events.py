"""The one vocabulary of call events a switch sends, checked at the edge.

Every adapter (the SIP set-up here, a FreeSWITCH site, a test) turns its own signalling into
these events; `calls.ingest` applies them to the call's state machine."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.storable import storable as encodable  # no NUL, no lone surrogate: a column can hold it

KINDS: dict[str, str] = {
    "incoming": "来电", "ivr": "语音导航按键", "queued": "进入队列", "offered": "分配坐席", "answered": "接听",
    "held": "保持", "resumed": "恢复通话", "transferred": "转接", "dtmf": "按键", "hangup": "挂机",
    "recording_ready": "录音完成", "survey_result": "满意度评价", "callback_requested": "预约回拨",
}
# The contact states in which each event applies; anything else is stored as ignored.
APPLIES_IN: dict[str, frozenset[str]] = {
    "ivr": frozenset({"ivr"}),
    "queued": frozenset({"ivr"}),
    "offered": frozenset({"queued", "offered"}),
    "answered": frozenset({"offered", "queued"}),
    "held": frozenset({"talking"}),
    "resumed": frozenset({"held"}),
    "transferred": frozenset({"talking", "held"}),
    "dtmf": frozenset({"ivr", "queued", "offered", "talking", "held"}),
    "hangup": frozenset({"ivr", "queued", "offered", "talking", "held"}),
    "recording_ready": frozenset({"ivr", "queued", "offered", "talking", "held", "ended"}),
    "survey_result": frozenset({"ended"}),
    "callback_requested": frozenset({"ivr", "queued"}),
}
SURVEY_SCORES: dict[int, tuple[str, str]] = {
    1: ("very_satisfied", "非常满意"), 2: ("satisfied", "满意"), 3: ("dissatisfied", "不满意"),
    4: ("very_dissatisfied", "非常不满意"),
}


class EventInvalid(Exception):
    """The event cannot be read; `message` (Chinese) names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CallEvent:
    source: str
    event_id: str
    kind: str
    call_id: str
    at: datetime
    data: dict[str, Any]


def _text(body: dict, name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise EventInvalid(f"缺少字段 {name}")
    if len(value) > limit:
        raise EventInvalid(f"字段 {name} 过长（最多 {limit} 个字符）")
    if not encodable(value):
        raise EventInvalid(f"字段 {name} 含有无效字符")
    return value.strip()


def parse(body: Any) -> CallEvent:
    """A CallEvent from a decoded JSON body, or EventInvalid saying what is wrong."""
    if not isinstance(body, dict):
        raise EventInvalid("事件必须是 JSON 对象")
    kind = _text(body, "kind", 32)
    if kind not in KINDS:
        raise EventInvalid(f"未知的事件类型 {kind}")
    try:
        at = datetime.fromisoformat(_text(body, "at", 40))
    except ValueError as exc:
        raise EventInvalid("时间 at 必须是 ISO 8601 格式") from exc
    if at.tzinfo is None:
        raise EventInvalid("时间 at 必须带时区")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise EventInvalid("data 必须是 JSON 对象")
    if not encodable(json.dumps(data, ensure_ascii=False)):
        raise EventInvalid("data 含有无效字符")
    if kind == "survey_result":
        score = data.get("score")
        if isinstance(score, str) and score.isdigit():
            score = int(score)
        if score not in SURVEY_SCORES:
            raise EventInvalid("满意度评价 score 必须是 1–4")
        data = {**data, "score": score}
    if kind in ("ivr", "dtmf") and not (isinstance(data.get("digit"), str) and len(data["digit"]) <= 4):
        raise EventInvalid("按键事件须有 digit")
    source = body.get("source", "switch")
    if not isinstance(source, str) or not source or len(source) > 32 or not encodable(source):
        raise EventInvalid("source 无效")
    return CallEvent(source, _text(body, "event_id", 128), kind, _text(body, "call_id", 128), at, data)
