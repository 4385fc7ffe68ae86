"""在线客服设置, kept by managers: the 常用语 agents choose from, and how many conversations each
agent who takes chats serves at once. Every change is audited."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, CallQueue, CannedReply, User, UserSkill
from app.refusals import Refused
from telephony_adapter import chats
from workflows import audit_trail, clock

MAX_CANNED = 500  # characters in one 常用语 (the column's size)
CHAT_LIMIT_RANGE = (1, 10)

DEFAULT_CANNED = (
    "您好，这里是医保服务热线在线客服，请问有什么可以帮您？",
    "请您提供参保人姓名和身份证号后四位，以便为您查询。",
    "您反映的问题我们已记录，将在规定时限内答复您。",
    "感谢您的咨询，还有其他问题吗？",
)
DEFAULT_CANNED_EN = (  # for 英语坐席
    "Hello, this is the 12393 Medical Insurance Service Hotline. How may I help you?",
    "Could you give me the insured person's name and the last four digits of their ID number?",
    "We have recorded your request and will reply within the stated time.",
    "Thank you for contacting us. Is there anything else I can help with?",
)


class SettingRefused(Refused):
    """A 在线客服设置 change refused."""


def _as_manager(user: User, ip: str | None) -> audit_trail.Actor:
    return audit_trail.Actor.of(user, ip, "manager")


LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def canned_replies(language: str | None = None) -> list[CannedReply]:
    """The 常用语 in their order; for a conversation, those in its language (English for 英语坐席)."""
    query = select(CannedReply)
    if language is not None:
        query = query.where(CannedReply.language == language)
    return list(db.session.scalars(query.order_by(CannedReply.position, CannedReply.id)))


def save_canned(user: User, text: str, ip: str | None, reply_id: int | None = None,
                position: int | None = None, language: str | None = None) -> CannedReply:
    """Add a 常用语, or change one (its words, its language or its place in the list)."""
    if language is not None and language not in LANGUAGE_NAMES:
        raise SettingRefused("请选择常用语的语言")
    text = " ".join((text or "").split())
    if not text:
        raise SettingRefused("常用语不能为空")
    if len(text) > MAX_CANNED:
        raise SettingRefused(f"常用语最多 {MAX_CANNED} 个字")
    if reply_id is None:
        last = db.session.scalar(select(CannedReply.position).order_by(CannedReply.position.desc()).limit(1))
        row = CannedReply(text=text, position=(last or 0) + 1 if position is None else position,
                          language=language or "zh")
        db.session.add(row)
        before = None
    else:
        row = db.session.get(CannedReply, reply_id)
        if row is None:
            raise SettingRefused("该常用语已被删除")
        before = row.text
        row.text = text
        if position is not None:
            row.position = position
        if language is not None:
            row.language = language
    row.updated_at = clock.now()
    db.session.flush()
    audit_trail.append(_as_manager(user, ip), "chat.canned_saved",
                       summary=f"{'修改' if before else '新增'}常用语：{text[:40]}",
                       data={"id": row.id, "text": text, "language": row.language, "before": before})
    db.session.commit()
    return row


def delete_canned(user: User, reply_id: int, ip: str | None) -> None:
    row = db.session.get(CannedReply, reply_id)
    if row is None:
        raise SettingRefused("该常用语已被删除")
    audit_trail.append(_as_manager(user, ip), "chat.canned_deleted", summary=f"删除常用语：{row.text[:40]}",
                       data={"id": row.id, "text": row.text})
    db.session.delete(row)
    db.session.commit()


def chat_agents() -> list[tuple[User, int]]:
    """Everyone with a chat queue's skill, and how many conversations they take at once."""
    chat_skills = select(CallQueue.skill_id).where(CallQueue.code.in_(list(chats.CHAT_QUEUES)))
    users = db.session.scalars(select(User).where(
        User.active.is_(True), User.id.in_(select(UserSkill.user_id).where(UserSkill.skill_id.in_(chat_skills))))
        .order_by(User.display_name, User.id)).all()
    limits = dict(db.session.execute(select(AgentPresence.user_id, AgentPresence.chat_limit)
                                     .where(AgentPresence.user_id.in_([u.id for u in users]))).all())
    default = AgentPresence.chat_limit.default.arg
    return [(u, limits.get(u.id, default)) for u in users]


def set_chat_limits(user: User, wanted: dict[int, int], ip: str | None) -> int:
    """Set agents' limits at once (all or none); returns how many changed. An agent already serving
    more than a lowered limit keeps those conversations and takes no new one until below it."""
    low, high = CHAT_LIMIT_RANGE
    known = {u.id: (u, limit) for u, limit in chat_agents()}
    for agent_id, limit in wanted.items():
        if agent_id not in known:
            raise SettingRefused("只能设置接待在线客服的坐席")
        if not low <= limit <= high:
            raise SettingRefused(f"{known[agent_id][0].display_name}：同时接待数须在 {low}–{high} 之间")
    changed = 0
    for agent_id, limit in wanted.items():
        agent, before = known[agent_id]
        if limit == before:
            continue
        presence = db.session.get(AgentPresence, agent_id)
        if presence is None:  # never signed in yet: the limit waits for them
            presence = AgentPresence(user_id=agent_id, state="logged_out", since=clock.now())
            db.session.add(presence)
        presence.chat_limit = limit
        audit_trail.append(_as_manager(user, ip), "chat.limit_set",
                           summary=f"{agent.display_name} 同时接待会话数 {before} → {limit}",
                           data={"agent_id": agent_id, "before": before, "limit": limit})
        changed += 1
    db.session.commit()
    return changed
