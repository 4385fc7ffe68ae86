"""Conversations (会话) on the chat channels: a message from a user opens a conversation — a contact
like a call, on the channel's queue — or joins the one still open; an agent's reply goes out
through the channel's API from a background job, retried, and shown as failed if it never
arrives. A message the channel delivers again is stored once."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CallQueue, ChatMessage, Contact, User
from telephony_adapter.wechat import InboundMessage  # the one shape every channel's message takes

log = logging.getLogger(__name__)
QUEUE_CODE = {"wechat": "wechat", "weibo": "weibo", "web": "web_chat"}  # the queue each channel lands in


def open_conversation(source: str, party: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.source == source, Contact.party == party,
                                                   Contact.state != "ended").order_by(Contact.id.desc()).limit(1))


def receive(message: InboundMessage) -> tuple[ChatMessage, bool]:
    """Store an incoming message in its conversation (opened if need be), in one transaction.
    Returns the message and whether it is new (False: the channel delivered it again)."""
    known = _known(message)
    if known is not None:
        return known, False
    contact = open_conversation(message.source, message.party)
    if contact is None:
        queue = db.session.scalar(select(CallQueue).where(CallQueue.code == QUEUE_CODE.get(message.source, ""),
                                                          CallQueue.active.is_(True)))
        contact = Contact(channel=message.source, source=message.source, call_id=f"{message.party}:{uuid.uuid4().hex}",
                          party=message.party, state="queued", started_at=message.at, queued_at=message.at,
                          queue_id=queue.id if queue else None, ivr_path="")
        db.session.add(contact)
        db.session.flush()
    row = ChatMessage(contact_id=contact.id, source=message.source, external_id=message.external_id, direction="in",
                      kind=message.kind, text=message.text[:4000], created_at=message.at,
                      data_json=json.dumps(message.data, ensure_ascii=False) if message.data else None)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the same message at the same moment, through another worker
        db.session.rollback()
        return _known(message), False
    return row, True


def _known(message: InboundMessage) -> ChatMessage | None:
    return db.session.scalar(select(ChatMessage).where(ChatMessage.source == message.source,
                                                       ChatMessage.external_id == message.external_id))


class ReplyRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def reply(user: User, contact: Contact, text: str, at: datetime) -> ChatMessage:
    """An agent's answer: stored at once (pending) and sent by a background job."""
    text = (text or "").strip()
    if not text:
        raise ReplyRefused("回复内容不能为空")
    if len(text) > 2000:
        raise ReplyRefused("回复最多 2000 个字")
    if contact.channel not in QUEUE_CODE or contact.state == "ended":
        raise ReplyRefused("该会话已结束")
    row = ChatMessage(contact_id=contact.id, source=contact.source, direction="out", kind="text", text=text,
                      author_id=user.id, created_at=at, send_state="pending")
    db.session.add(row)
    db.session.commit()
    enqueue_send(row.id)
    return row


def enqueue_send(message_id: int, delay_seconds: int = 0) -> None:
    from datetime import timedelta

    from rq import Queue

    from app.redis_client import get_redis

    queue = Queue("default", connection=get_redis())
    if delay_seconds:
        queue.enqueue_in(timedelta(seconds=delay_seconds), "worker.jobs.send_chat_message", message_id)
    else:
        queue.enqueue("worker.jobs.send_chat_message", message_id)


def send(message_id: int, at: datetime) -> str:
    """The job: hand one pending reply to its channel. A failure that retrying may cure is tried
    again later (after 5, 20, 60 s); the last failure, or one that cannot be cured, marks it failed
    for the agent to see. Returns the state it ends this attempt in."""
    from telephony_adapter.wechat_api import SendFailed

    row = db.session.get(ChatMessage, message_id)
    if row is None or row.send_state != "pending":
        return row.send_state if row is not None else "missing"
    contact = db.session.get(Contact, row.contact_id)
    row.attempts += 1
    try:
        _channel_sender(row.source)(contact.party, row.text)
    except SendFailed as failure:
        row.error = failure.message[:255]
        limit = current_app.config["CHAT_SEND_ATTEMPTS"]
        if failure.permanent or row.attempts >= limit:
            row.send_state = "failed"
        db.session.commit()
        if row.send_state == "pending":
            enqueue_send(row.id, delay_seconds=RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1])
        log.warning("chat message %s not sent (attempt %s): %s", row.id, row.attempts, failure.message)
        return row.send_state
    row.send_state, row.sent_at, row.error = "sent", at, None
    db.session.commit()
    return "sent"


RETRY_DELAYS = (5, 20, 60)


def _channel_sender(source: str):
    from app.redis_client import get_redis
    from telephony_adapter.wechat_api import ApiSettings, SendFailed, WeChatApi

    config = current_app.config
    if source == "wechat":
        if not (config.get("WECHAT_APPID") and config.get("WECHAT_SECRET")):
            raise SendFailed("未配置公众号 AppID 与 AppSecret", permanent=True)
        api = WeChatApi(ApiSettings(config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"]),
                        get_redis())
        return api.send_text
    if source == "weibo":
        from telephony_adapter.weibo import WeiboApi

        if not config.get("WEIBO_ACCESS_TOKEN"):
            raise SendFailed("未配置微博粉丝服务平台 access_token", permanent=True)
        return WeiboApi(config["WEIBO_API_BASE"], config["WEIBO_ACCESS_TOKEN"]).send_text
    raise SendFailed(f"渠道 {source} 暂不支持发送", permanent=True)
