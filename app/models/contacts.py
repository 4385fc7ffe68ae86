"""The contact centre: call queues, contacts (来电记录 / CDR) with their event receipts, and the
agents' presence (坐席状态) with its log of every transition."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# The agent states and their Chinese names (shown on the agent bar and, later, the wallboard).
AGENT_STATES: dict[str, str] = {
    "logged_out": "签出",
    "ready": "示闲",
    "not_ready": "示忙",
    "reserved": "振铃",
    "talking": "通话",
    "held": "保持",
    "after_call_work": "整理",
}
NOT_READY_REASONS: dict[str, str] = {"break": "小休", "meal": "用餐", "training": "培训", "meeting": "会议",
                                     "other": "其他"}
# Reasons only the platform sets (an agent cannot choose them), shown with the others.
SYSTEM_NOT_READY_REASONS: dict[str, str] = {"phone_unregistered": "话机未注册"}
NOT_READY_LABELS: dict[str, str] = {**NOT_READY_REASONS, **SYSTEM_NOT_READY_REASONS}
HANGUP_CAUSES: dict[str, str] = {
    "normal": "正常挂机", "caller_bye": "来电者挂机", "agent_bye": "坐席挂机", "caller_cancel": "来电者放弃",
    "callback_requested": "预约回拨", "no_agent": "无坐席", "agent_486": "坐席忙", "agent_480": "坐席未接",
    "agent_408": "坐席无应答", "agent_unregistered": "坐席话机未注册",
}
CONTACT_STATES: dict[str, str] = {
    "ivr": "语音导航", "queued": "排队", "offered": "振铃", "talking": "通话", "held": "保持", "ended": "已结束",
}


class CallQueue(db.Model):
    """A queue (呼叫队列): which skill serves it, when it overflows, how long a caller may wait."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id"))
    min_level: Mapped[int] = mapped_column(Integer, default=1)
    # After this wait, agents with the overflow skill are offered the call too (0: never).
    overflow_skill_id: Mapped[int | None] = mapped_column(ForeignKey("skill.id"))
    overflow_after_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # After this wait the caller is offered a callback request (预约回拨); 0: never.
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    dialled_number: Mapped[str | None] = mapped_column(String(32))
    ivr_digit: Mapped[str | None] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    skill = relationship("Skill", foreign_keys=[skill_id])
    overflow_skill = relationship("Skill", foreign_keys=[overflow_skill_id])


IVR_KINDS: dict[str, str] = {"menu": "子菜单", "queue": "转人工队列", "message": "自助语音（播报后挂机）",
                             "callback": "预约回拨"}


class IvrNode(db.Model):
    """One entry of the voice menu (语音导航): the root greets the caller; each child is reached by
    one key and is a sub-menu, a queue, a self-service message or a callback request."""

    __table_args__ = (UniqueConstraint("parent_id", "digit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_node.id", ondelete="CASCADE"), index=True)
    digit: Mapped[str | None] = mapped_column(String(1))  # the key in the parent menu; none for the root
    kind: Mapped[str] = mapped_column(String(16), default="menu")
    label: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text, default="")  # what the caller hears (synthesised speech)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("call_queue.id"))
    # A recorded prompt a manager uploaded, played instead of the synthesised text: kept as phone
    # audio (8 kHz, unsigned 8-bit, mono) in the database, so every media component can fetch it.
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    audio_name: Mapped[str | None] = mapped_column(String(255))
    audio_hash: Mapped[str | None] = mapped_column(String(16))  # changes with the recording: the components' cache key
    audio_seconds: Mapped[float | None] = mapped_column(Float)

    queue = relationship(CallQueue)

    @property
    def kind_label(self) -> str:
        return IVR_KINDS.get(self.kind, self.kind)


CHAT_CHANNELS_SQL = "channel IN ('wechat', 'weibo', 'web', 'video')"


class Contact(db.Model):
    """One call (later also a chat): its path through IVR, queue and agent, with the times the
    reports are built from. Times in seconds; `abandoned` calls ended while waiting."""

    __table_args__ = (
        UniqueConstraint("source", "call_id"),
        # The ACD's question: the waiting calls, most urgent first — read in this order until one
        # of the agent's queues turns up.
        Index("ix_contact_waiting", "priority", "queued_at", "id",
              postgresql_where=text("state = 'queued'"), sqlite_where=text("state = 'queued'")),
        # The month's conversations for the online indicators, read off the index alone
        # (app/reports/indicators.py: the chat scan names these same channels).
        Index("ix_contact_chat_started", "started_at", postgresql_where=text(CHAT_CHANNELS_SQL),
              sqlite_where=text(CHAT_CHANNELS_SQL),
              postgresql_include=["channel", "offered_at", "answered_at", "ended_at", "completed_at", "chat_rating",
                                  "agent_id", "abandoned", "queue_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    source: Mapped[str] = mapped_column(String(32))  # which switch / integration reported it
    call_id: Mapped[str] = mapped_column(String(128))  # the SIP Call-ID or the switch's call uuid
    caller: Mapped[str | None] = mapped_column(String(32), index=True)
    party: Mapped[str | None] = mapped_column(String(64), index=True)  # a chat's user on its channel (openid …)
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default=text("'zh'"))  # zh, en (英语坐席)
    recording_consent: Mapped[bool | None] = mapped_column(Boolean)  # 视频服务: the citizen's answer, asked before
    dialled: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="ivr")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("call_queue.id"))
    # Waiting calls are served in ascending priority, then by arrival: -1 for a repeat caller, 0 otherwise
    # (ascending, so that one plain index gives the ACD its order).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    ivr_path: Mapped[str] = mapped_column(Text, default="")  # the keys pressed, e.g. "1>2"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set while the call is on hold
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[float] = mapped_column(default=0.0)
    ring_seconds: Mapped[float] = mapped_column(default=0.0)
    talk_seconds: Mapped[float] = mapped_column(default=0.0)
    hold_seconds: Mapped[float] = mapped_column(default=0.0)
    acw_seconds: Mapped[float] = mapped_column(default=0.0)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    recording: Mapped[str | None] = mapped_column(String(255))
    survey_score: Mapped[int | None] = mapped_column(Integer)
    chat_rating: Mapped[str | None] = mapped_column(String(16))  # a chat's 满意 / 基本满意 / 不满意
    # A chat's 会话完毕: when the citizen left, else (set when the agent ends it) the last message.
    # 人工挂机时长 = ended_at - completed_at (goal ≤ 30 s).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # The switch's handle on a call held in the queue (Kamailio: "tindex:tlabel" of the suspended
    # INVITE), used to connect it once an agent is free.
    switch_ref: Mapped[str | None] = mapped_column(String(64))
    # The second leg's SIP Call-ID when a media component (the voice menu) answered the caller and
    # dialled the agent on its own leg: the switch reports that leg's events under this id.
    leg_call_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # Where the caller stands in the voice menu, and how many wrong keys they pressed there.
    ivr_node_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_node.id", ondelete="SET NULL"))
    ivr_misses: Mapped[int] = mapped_column(Integer, default=0)

    queue = relationship(CallQueue)
    agent = relationship("User")

    @property
    def state_label(self) -> str:
        return CONTACT_STATES.get(self.state, self.state)

    @property
    def repeat_caller(self) -> bool:
        return self.priority < 0

    @property
    def hangup_label(self) -> str:
        return HANGUP_CAUSES.get(self.hangup_cause or "", self.hangup_cause or "—")


class CallQuality(db.Model):
    """连接质量 of one call answered on a browser softphone, as that browser measured it (WebRTC
    statistics, sent every few seconds): the last cumulative packet counts, and jitter and
    round-trip time summed (for the mean) and at their worst."""

    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    samples: Mapped[int] = mapped_column(Integer, default=0)
    packets_received: Mapped[int] = mapped_column(Integer, default=0)
    packets_lost: Mapped[int] = mapped_column(Integer, default=0)
    jitter_ms_sum: Mapped[float] = mapped_column(Float, default=0.0)
    jitter_ms_max: Mapped[float] = mapped_column(Float, default=0.0)
    rtt_samples: Mapped[int] = mapped_column(Integer, default=0)  # the far end's reports may not have come yet
    rtt_ms_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rtt_ms_max: Mapped[float] = mapped_column(Float, default=0.0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact = relationship(Contact, backref=db.backref("quality", uselist=False, passive_deletes=True))

    @property
    def loss_pct(self) -> float:
        sent = self.packets_received + self.packets_lost
        return 100.0 * self.packets_lost / sent if sent else 0.0

    @property
    def jitter_ms(self) -> float:
        return self.jitter_ms_sum / self.samples if self.samples else 0.0

    @property
    def rtt_ms(self) -> float | None:
        return self.rtt_ms_sum / self.rtt_samples if self.rtt_samples else None


class ContactEvent(db.Model):
    """Every switch event received, once: a repeated (source, event id) changes nothing. An event
    that does not fit the call's state is kept with outcome `ignored` and the reason."""

    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(128))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # applied, ignored
    note: Mapped[str | None] = mapped_column(String(255))
    data_json: Mapped[str | None] = mapped_column(Text)


class AgentPresence(db.Model):
    """An agent's state now. `idle_since` orders the ready agents: the longest idle gets the call."""

    __table_args__ = (Index("ix_agent_presence_ready", "state", "idle_since"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="logged_out")
    reason: Mapped[str | None] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    acw_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chat_limit: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))  # chats at once (managers set it)
    address: Mapped[str | None] = mapped_column(String(45))  # where the agent last changed state from
    remote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 场外坐席: outside the office

    user = relationship("User")

    @property
    def state_label(self) -> str:
        label = AGENT_STATES.get(self.state, self.state)
        if self.state == "not_ready" and self.reason:
            return f"{label}（{NOT_READY_LABELS.get(self.reason, self.reason)}）"
        return label


class AgentStateLog(db.Model):
    """One period an agent spent in one state: utilisation, after-call work and adherence are
    computed from these rows. The open period has no `ended_at`."""

    __table_args__ = (Index("ix_agent_state_log_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
