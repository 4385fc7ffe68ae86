"""Conversations (会话) on the chat channels: a message from a user opens a conversation — a contact
like a call, on the channel's queue — or joins the one still open; an agent's reply goes out
through the channel's API from a background job, retried, and shown as failed if it never
arrives. A message the channel delivers again is stored once."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AgentPresence, CallQueue, ChatMessage, Contact, User, UserSkill
from app.refusals import Refused
from telephony_adapter import push
from telephony_adapter.acd import skip_locked
from telephony_adapter.wechat import InboundMessage  # the one shape every channel's message takes

log = logging.getLogger(__name__)
# The queue each channel lands in. 视频服务 (video) is a conversation too: its side chat is this
# module's messages, its picture and sound go browser to browser (app/video/).
QUEUE_CODE = {"wechat": "wechat", "weibo": "weibo", "web": "web_chat", "video": "video"}
VISITOR_PAGES = ("web", "video")  # channels whose citizen holds our page open: a push is the delivery
# 英语坐席: a conversation in English lands in its channel's English queue (served by the `en`
# skill) when the site has one, else in the channel's own queue.
LANGUAGE_QUEUE = {("web", "en"): "web_chat_en", ("video", "en"): "video_en"}
CHAT_QUEUES = tuple(QUEUE_CODE.values()) + tuple(LANGUAGE_QUEUE.values())
LANGUAGES = ("zh", "en")


def _queue_for(source: str, language: str) -> CallQueue | None:
    for code in (LANGUAGE_QUEUE.get((source, language)), QUEUE_CODE.get(source)):
        queue = db.session.scalar(select(CallQueue).where(CallQueue.code == (code or ""), CallQueue.active.is_(True)))
        if queue is not None:
            return queue
    return None


def open_conversation(source: str, party: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.source == source, Contact.party == party,
                                                   Contact.state != "ended").order_by(Contact.id.desc()).limit(1))


LEAVING_EVENTS = {"unsubscribe"}  # a user who unfollows has left whatever conversation they had


def receive(message: InboundMessage) -> tuple[ChatMessage | None, bool]:
    """Store an incoming message in its conversation (opened if need be), in one transaction.
    Returns the message and whether it is new (False: the channel delivered it again; None: a
    user leaving who had no conversation open, which nobody needs to serve)."""
    known = _known(message)
    if known is not None:
        return known, False
    from workflows import clock

    now = clock.now()  # the service clock runs from when the hotline has the message, not the channel's stamp
    contact = open_conversation(message.source, message.party)
    leaving = message.kind == "event" and (message.data or {}).get("event") in LEAVING_EVENTS
    if contact is None and leaving:
        return None, False
    if contact is None:
        language = message.language if message.language in LANGUAGES else "zh"
        queue = _queue_for(message.source, language)
        contact = Contact(channel=message.source, source=message.source, call_id=f"{message.party}:{uuid.uuid4().hex}",
                          party=message.party, state="queued", started_at=now, queued_at=now,
                          queue_id=queue.id if queue else None, ivr_path="", language=language)
        db.session.add(contact)
        db.session.flush()
    row = ChatMessage(contact_id=contact.id, source=message.source, external_id=message.external_id, direction="in",
                      kind=message.kind, text=message.text[:4000], created_at=message.at,
                      data_json=json.dumps(message.data, ensure_ascii=False) if message.data else None)
    db.session.add(row)
    if message.kind == "event" and (message.data or {}).get("event") == "video_request":
        # 视频服务: the citizen's answer to recording lands with the request, in the same transaction.
        contact.recording_consent = bool(message.data.get("consent"))
    if leaving:
        _left(contact, now)
    elif contact.completed_at is not None:
        contact.completed_at = None  # the citizen came back before the agent closed: not complete after all
    if contact.state == "queued" and contact.agent_id is None:
        assign(contact, now)
    agent_id, contact_id = contact.agent_id, contact.id
    try:
        db.session.commit()
    except IntegrityError:  # the same message at the same moment, through another worker
        db.session.rollback()
        return _known(message), False
    if agent_id is not None:
        push.publish(agent_id, "chat", {"contact_id": contact_id, "message_id": row.id})
    return row, True


CHANNELS = tuple(QUEUE_CODE)


def _open_chats_of(agent):
    """How many conversations `agent` (a user id, or a column) has open."""
    return select(func.count(Contact.id)).where(Contact.agent_id == agent, Contact.channel.in_(CHANNELS),
                                                Contact.state == "talking")


def open_chats(user_id: int) -> int:
    return db.session.scalar(_open_chats_of(user_id)) or 0


def belongs_to(contact: Contact, user_id: int) -> bool:
    """A conversation (not a call) this agent has."""
    return contact.channel in CHANNELS and contact.agent_id == user_id


def _give(contact: Contact, user_id: int, at: datetime) -> None:
    contact.agent_id, contact.state, contact.offered_at = user_id, "talking", at
    contact.wait_seconds = max(0.0, (at - contact.queued_at).total_seconds()) if contact.queued_at else 0.0


def assign(contact: Contact, at: datetime, exclude: int | None = None) -> int | None:
    """Give a waiting conversation to an agent: one who is signed in and ready, has the queue's
    skill at its level and room under their chat limit — the one with the fewest open chats, then
    the longest idle. Returns the agent, or None (it waits for `assign_waiting`)."""
    queue = db.session.get(CallQueue, contact.queue_id) if contact.queue_id else None
    if queue is None:
        return None
    mine = _open_chats_of(AgentPresence.user_id).correlate(AgentPresence).scalar_subquery()
    skilled = select(UserSkill.user_id).where(UserSkill.skill_id == queue.skill_id, UserSkill.level >= queue.min_level)
    chosen = db.session.execute(
        select(AgentPresence.user_id).where(AgentPresence.state == "ready", AgentPresence.user_id.in_(skilled),
                                            mine < AgentPresence.chat_limit, AgentPresence.user_id != (exclude or 0))
        .order_by(mine, AgentPresence.idle_since, AgentPresence.user_id).limit(1)).scalar()
    if chosen is not None:
        _give(contact, chosen, at)
    return chosen


def assign_waiting(user_id: int, at: datetime) -> list[int]:
    """An agent has room (opened the console, ended a chat, became ready): the conversations waiting
    longest in the queues they serve, up to their limit. Commits; returns the conversations."""
    presence = db.session.get(AgentPresence, user_id)
    if presence is None or presence.state != "ready":
        return []
    room = presence.chat_limit - open_chats(user_id)
    skills = {s.skill_id: s.level for s in db.session.scalars(select(UserSkill).where(UserSkill.user_id == user_id))}
    served = [q.id for q in db.session.scalars(select(CallQueue).where(CallQueue.code.in_(list(CHAT_QUEUES))))
              if skills.get(q.skill_id, -1) >= q.min_level]
    given = []
    if room > 0 and served:
        for contact in db.session.scalars(select(Contact).where(
                Contact.state == "queued", Contact.channel.in_(CHANNELS), Contact.queue_id.in_(served))
                .order_by(Contact.queued_at, Contact.id).limit(room).with_for_update(**skip_locked())):
            _give(contact, user_id, at)
            given.append(contact.id)
    db.session.commit()
    for contact_id in given:
        push.publish(user_id, "chat", {"contact_id": contact_id})
    return given


def _left(contact: Contact, at: datetime) -> None:
    """The citizen left: a conversation nobody had taken yet is abandoned (放弃); one being served
    is complete (会话完毕) — the agent's 30 s to close it (人工挂机时长) run from now."""
    if contact.state == "queued":
        contact.state, contact.ended_at, contact.abandoned = "ended", at, True
    contact.completed_at = contact.completed_at or at


def leave(source: str, party: str, at: datetime) -> Contact | None:
    """The citizen ends the conversation from their side (the web page's 结束对话)."""
    contact = open_conversation(source, party)
    if contact is None:
        return None
    _left(contact, at)
    db.session.add(ChatMessage(contact_id=contact.id, source=source, direction="in", kind="event",
                               text="市民结束了对话", created_at=at, data_json=json.dumps({"event": "leave"})))
    agent_id, contact_id = contact.agent_id, contact.id
    db.session.commit()
    if agent_id is not None:
        push.publish(agent_id, "chat", {"contact_id": contact_id})
    return contact


def end(user: User, contact: Contact, at: datetime) -> None:
    """结束会话: the conversation is closed and the citizen asked for a rating (on the web page).
    Unless the citizen left first, the conversation was complete at its last message."""
    if contact.agent_id != user.id or contact.state != "talking":
        raise ReplyRefused("只能结束自己正在进行的会话")
    if contact.completed_at is None:
        last = db.session.scalar(select(func.max(ChatMessage.created_at)).where(ChatMessage.contact_id == contact.id))
        contact.completed_at = min(last or at, at)
    contact.state, contact.ended_at = "ended", at
    contact.talk_seconds = max(0.0, (at - contact.offered_at).total_seconds()) if contact.offered_at else 0.0
    source, party = contact.source, contact.party
    db.session.commit()
    if source in VISITOR_PAGES:
        push.publish_to(visitor_channel(source, party), "ended", {})
    assign_waiting(user.id, at)


def visitor_channel(source: str, party: str) -> str:
    return f"hotline:visitor:{source}:{party}"


def latest_conversation(source: str, party: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.source == source, Contact.party == party)
                             .order_by(Contact.id.desc()).limit(1))


RATING_SATISFACTION = {"satisfied": "satisfied", "basic": "satisfied", "dissatisfied": "dissatisfied"}
RATING_LABELS = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}


def rate(source: str, party: str, rating: str, at: datetime) -> Contact:
    """满意 / 基本满意 / 不满意 for the conversation just ended: kept once on the conversation."""
    contact = latest_conversation(source, party)
    if contact is None or contact.state != "ended":
        raise ReplyRefused("会话尚未结束")
    if contact.chat_rating is not None:
        raise ReplyRefused("您已评价过本次会话")
    contact.chat_rating = rating
    db.session.commit()
    if contact.ticket_id is not None:
        _deliver_rating(contact)
    return contact


def _deliver_rating(contact: Contact) -> None:
    """The rating reaches the ticket recorded from the conversation as its satisfaction (once:
    the message id is the conversation's)."""
    from telephony_adapter.calls import deliver_satisfaction
    from workflows import engine

    try:
        deliver_satisfaction(contact.ticket_id, RATING_SATISFACTION[contact.chat_rating],
                             RATING_LABELS[contact.chat_rating], "chat_rating",
                             f"chat-rating:{contact.source}:{contact.id}", "chat")
    except engine.StepRefused as exc:  # kept on the conversation; the ticket's own callback still asks
        log.warning("rating of conversation %s not delivered to ticket %s: %s", contact.id, contact.ticket_id,
                    exc.message)


def transcript(contact: Contact) -> list[ChatMessage]:
    return list(db.session.scalars(select(ChatMessage).where(ChatMessage.contact_id == contact.id)
                                   .order_by(ChatMessage.created_at, ChatMessage.id)))


def _known(message: InboundMessage) -> ChatMessage | None:
    return db.session.scalar(select(ChatMessage).where(ChatMessage.source == message.source,
                                                       ChatMessage.external_id == message.external_id))


class ReplyRefused(Refused):
    """A chat action refused (a reply, an end, a transfer, a rating)."""


def reply(user: User, contact: Contact, text: str, at: datetime) -> ChatMessage:
    """An agent's answer: stored at once (pending) and sent by a background job."""
    text = (text or "").strip()
    if not text:
        raise ReplyRefused("回复内容不能为空")
    if len(text) > 2000:
        raise ReplyRefused("回复最多 2000 个字")
    if contact.channel not in QUEUE_CODE or contact.state == "ended":
        raise ReplyRefused("该会话已结束")
    if not belongs_to(contact, user.id):
        raise ReplyRefused("该会话不在您的名下")
    row = ChatMessage(contact_id=contact.id, source=contact.source, direction="out", kind="text", text=text,
                      author_id=user.id, created_at=at, send_state="pending", next_attempt_at=at)
    db.session.add(row)
    if contact.answered_at is None:  # the first answer: the first-response indicator stops here
        contact.answered_at = at
    db.session.commit()
    enqueue_send(row.id)
    return row


def enqueue_send(message_id: int, delay_seconds: int = 0) -> bool:
    """Queue the job that sends a stored reply. Redis being away loses nothing: the reply is in the
    database, pending, and `resend_stalled` queues it again once Redis is back."""
    from app.jobs import enqueue

    return enqueue("worker.jobs.send_chat_message", message_id, delay_seconds=delay_seconds) is not None


def resend_stalled(at: datetime) -> list[int]:
    """The outbox sweep (a periodic job): queue again every pending reply whose job is long overdue —
    its job was lost with a worker killed while sending or a Redis restarted without its queues."""
    stalled_after = timedelta(seconds=current_app.config["CHAT_RESEND_AFTER_SECONDS"])
    rows = db.session.scalars(select(ChatMessage).where(ChatMessage.send_state == "pending",
                                                        ChatMessage.next_attempt_at < at - stalled_after)
                              .order_by(ChatMessage.next_attempt_at).limit(500).with_for_update(**skip_locked())).all()
    for row in rows:
        row.next_attempt_at = at
    db.session.commit()
    ids = [row.id for row in rows]
    for message_id in ids:
        log.warning("chat message %s had lost its send job; queued again", message_id)
        enqueue_send(message_id)
    return ids


def send(message_id: int, at: datetime) -> str:
    """The job: hand one pending reply to its channel. A failure that retrying may cure is tried
    again later (after 5, 20, 60 s); the last failure, or one that cannot be cured, marks it failed
    for the agent to see. Returns the state it ends this attempt in."""
    from telephony_adapter.wechat_api import SendFailed

    # Locked: the job and a copy the outbox sweep queued never both hand the same reply over.
    row = db.session.scalar(select(ChatMessage).where(ChatMessage.id == message_id).with_for_update())
    if row is None or row.send_state != "pending":
        db.session.rollback()
        return row.send_state if row is not None else "missing"
    contact = db.session.get(Contact, row.contact_id)
    row.attempts += 1
    try:
        if row.source in VISITOR_PAGES:  # the visitor's page holds an event stream: the push is the delivery
            push.publish_to(visitor_channel(row.source, contact.party), "reply", {"message_id": row.id, "text": row.text})
        else:
            _channel_sender(row.source)(contact.party, row.text)
    except SendFailed as failure:
        row.error = failure.message[:255]
        limit = current_app.config["CHAT_SEND_ATTEMPTS"]
        if failure.permanent or row.attempts >= limit:
            row.send_state, row.next_attempt_at = "failed", None
        else:
            row.next_attempt_at = at + timedelta(seconds=RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1])
        db.session.commit()
        if row.send_state == "pending":
            enqueue_send(row.id, delay_seconds=RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1])
        log.warning("chat message %s not sent (attempt %s): %s", row.id, row.attempts, failure.message)
        if row.send_state == "failed":
            push.publish(row.author_id, "chat", {"contact_id": row.contact_id, "message_id": row.id})
        return row.send_state
    row.send_state, row.sent_at, row.error, row.next_attempt_at = "sent", at, None, None
    db.session.commit()
    push.publish(row.author_id, "chat", {"contact_id": row.contact_id, "message_id": row.id})  # 已送达 on the console
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


@dataclass
class Waiting:
    """Where a conversation stands for the agent's timers: how many of the citizen's messages came
    after the agent's last answer (and since when the oldest of them waits), and when the last
    message of either side was (the close countdown runs from it once the citizen has an answer)."""

    unanswered: int = 0
    since: datetime | None = None
    last_at: datetime | None = None


def waiting(conversations: list[Contact]) -> dict[int, Waiting]:
    ids = [c.id for c in conversations]
    found: dict[int, Waiting] = {contact_id: Waiting() for contact_id in ids}
    if not ids:
        return found
    for contact_id, direction, kind, at in db.session.execute(
            select(ChatMessage.contact_id, ChatMessage.direction, ChatMessage.kind, ChatMessage.created_at)
            .where(ChatMessage.contact_id.in_(ids))
            .order_by(ChatMessage.contact_id, ChatMessage.created_at, ChatMessage.id)):
        now = found[contact_id]
        now.last_at = at
        if direction == "out":
            now.unanswered, now.since = 0, None
        elif kind != "event":  # a subscribe or a menu click is not a question waiting for an answer
            now.unanswered += 1
            now.since = now.since or at
    return found


def transfer(user: User, contact: Contact, at: datetime, agent_id: int | None = None,
             queue_code: str | None = None) -> int | None:
    """转接: to a colleague (who must be ready, with room under their limit) or back to a chat queue
    (given to whoever may take it, or waiting there). Returns the agent who has it now, if any."""
    if contact.agent_id != user.id or contact.state != "talking":
        raise ReplyRefused("只能转接自己正在进行的会话")
    if agent_id is not None:
        presence = db.session.get(AgentPresence, agent_id)
        if agent_id == user.id or presence is None or presence.state != "ready":
            raise ReplyRefused("对方不在示闲状态，无法转接")
        if open_chats(agent_id) >= presence.chat_limit:
            raise ReplyRefused("对方接待的会话已满")
        contact.agent_id, contact.offered_at = agent_id, at
        given = agent_id
    else:
        queue = db.session.scalar(select(CallQueue).where(CallQueue.code == (queue_code or ""),
                                                          CallQueue.code.in_(list(CHAT_QUEUES)),
                                                          CallQueue.active.is_(True)))
        if queue is None:
            raise ReplyRefused("请选择转接的同事或队列")
        contact.agent_id, contact.state, contact.queue_id, contact.queued_at = None, "queued", queue.id, at
        given = assign(contact, at, exclude=user.id)  # handed on: not straight back to the one handing it on
    contact_id = contact.id
    db.session.commit()
    for someone in {user.id, given} - {None}:
        push.publish(someone, "chat", {"contact_id": contact_id})
    return given



def transfer_targets(user_id: int) -> dict:
    """Whom a conversation may be handed to: the ready colleagues who take chats, and the chat queues."""
    chat_skills = select(CallQueue.skill_id).where(CallQueue.code.in_(list(CHAT_QUEUES)))
    colleagues = db.session.execute(
        select(User.id, User.display_name).join(AgentPresence, AgentPresence.user_id == User.id)
        .where(AgentPresence.state == "ready", User.id != user_id,
               User.id.in_(select(UserSkill.user_id).where(UserSkill.skill_id.in_(chat_skills))))
        .order_by(User.display_name)).all()
    queues = db.session.execute(select(CallQueue.code, CallQueue.name).where(
        CallQueue.code.in_(list(CHAT_QUEUES)), CallQueue.active.is_(True)).order_by(CallQueue.code)).all()
    return {"colleagues": colleagues, "queues": queues}
