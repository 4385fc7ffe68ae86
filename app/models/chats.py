"""Chat messages (全媒体: 微信公众号, 微博, 在线客服): each belongs to a conversation, which is a
contact like a call (`Contact.channel` wechat / weibo / web, `Contact.party` the channel's user)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

MESSAGE_KINDS = {"text": "文字", "image": "图片", "voice": "语音", "location": "位置", "event": "事件",
                 "link": "链接", "video": "视频"}
SEND_STATES = {"pending": "发送中", "sent": "已送达", "failed": "发送失败"}


class ChatMessage(db.Model):
    """One message in or out. An incoming one keeps the channel's id (WeChat MsgId, or sender and
    time for events), so a message the channel delivers again is stored once; an outgoing one
    records whether the channel took it."""

    # The outbox: pending replies by when they are next due (telephony_adapter/chats.resend_stalled).
    __table_args__ = (UniqueConstraint("source", "external_id"),
                      Index("ix_chat_message_outbox", "next_attempt_at", postgresql_where=sql_text("send_state = 'pending'"),
                            sqlite_where=sql_text("send_state = 'pending'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))  # wechat, weibo, web
    external_id: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    data_json: Mapped[str | None] = mapped_column(Text)  # media id, coordinates, event key …
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the agent, for an outgoing one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_state: Mapped[str | None] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A pending reply's next hand-over to its channel: its job's time. Long past means the job was
    # lost (worker killed, Redis restarted empty), and the outbox sweep sends it again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author = relationship("User")

    @property
    def kind_label(self) -> str:
        return MESSAGE_KINDS.get(self.kind, self.kind)


class CannedReply(db.Model):
    """常用语: a sentence agents put into a chat reply with one choice; managers keep the list."""

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default=sql_text("'zh'"))  # for zh / en chats
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order agents see them in
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
