"""What a team lead does from the wallboard (班长干预): force an agent to 示忙 or 签出, change the
queues an agent serves, and in a surge (突发事件) bring every agent on a break back to 示闲. Each
action is audited and the agent's own screen is told at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, CallQueue, Skill, User, UserSkill
from app.models.contacts import AGENT_STATES, NOT_READY_REASONS
from app.refusals import Refused
from telephony_adapter import agents, presence, push
from workflows import audit_trail

FORCEABLE = {"not_ready": "示忙", "logged_out": "签出"}
DEFAULT_LEVEL = 3  # an agent put on a queue whose skill they did not have yet


class ActionRefused(Refused):
    """A team lead's action refused."""


def _agent(agent_id: int) -> User:
    agent = db.session.get(User, agent_id)
    if agent is None or not agent.active:
        raise ActionRefused("没有这位坐席")
    return agent


def force_state(lead: User, agent_id: int, state: str, reason: str | None, now: datetime, ip: str | None) -> None:
    if state not in FORCEABLE:
        raise ActionRefused("只能强制示忙或签出")
    if state == "not_ready" and reason not in NOT_READY_REASONS:
        raise ActionRefused("强制示忙须选择原因")
    agent = _agent(agent_id)
    row = presence.presence(agent_id, lock=True)
    before = row.state
    if before in presence.ON_A_CALL:
        raise ActionRefused(f"{agent.display_name} 正在通话，请在通话结束后再操作")
    try:
        presence.choose(agent_id, state, now, reason if state == "not_ready" else None, row)
    except presence.PresenceRefused as exc:
        raise ActionRefused(exc.message) from exc
    label = FORCEABLE[state] + (f"（{NOT_READY_REASONS[reason]}）" if state == "not_ready" else "")
    audit_trail.append(audit_trail.Actor.of(lead, ip), "monitor.force_state",
                       summary=f"将 {agent.display_name} 由{AGENT_STATES.get(before, before)}强制{label}",
                       data={"agent_id": agent_id, "before": before, "state": state, "reason": reason})
    db.session.commit()
    push.publish(agent_id, "presence", {"notice": f"班长 {lead.display_name} 已将您的状态设为{label}"})


def queue_skills() -> list[tuple[Skill, list[CallQueue]]]:
    """The skills that serve queues, each with its queues: what "moving an agent between queues" changes."""
    grouped: dict[int, tuple[Skill, list[CallQueue]]] = {}
    for queue in db.session.scalars(select(CallQueue).where(CallQueue.active.is_(True))
                                    .order_by(CallQueue.ivr_digit, CallQueue.code)):
        grouped.setdefault(queue.skill_id, (queue.skill, []))[1].append(queue)
    return sorted(grouped.values(), key=lambda pair: pair[0].name)


def set_queue_skills(lead: User, agent_id: int, skill_ids: set[int], ip: str | None) -> list[str]:
    """The agent serves exactly the queues of `skill_ids` (among the skills that serve queues; their
    other skills stay). Returns the queue codes they serve now."""
    agent = _agent(agent_id)
    serving = {skill.id: (skill, queues) for skill, queues in queue_skills()}
    unknown = skill_ids - set(serving)
    if unknown:
        raise ActionRefused("所选技能不对应任何启用的队列")
    held = {row.skill_id: row for row in db.session.scalars(select(UserSkill).where(UserSkill.user_id == agent_id))}
    before = sorted(serving[s][0].name for s in held if s in serving)
    for skill_id, (_skill, queues) in serving.items():
        lowest = min(q.min_level for q in queues)
        if skill_id in skill_ids and skill_id not in held:
            db.session.add(UserSkill(user_id=agent_id, skill_id=skill_id, level=max(DEFAULT_LEVEL, lowest)))
        elif skill_id in skill_ids and held[skill_id].level < lowest:
            held[skill_id].level = lowest  # held too low to be offered the queue: raised to its floor
        elif skill_id not in skill_ids and skill_id in held:
            db.session.delete(held[skill_id])
    after = sorted(serving[s][0].name for s in skill_ids)
    if before == after:
        db.session.rollback()
        return _codes(serving, skill_ids)
    was, now_serving = "、".join(before) or "无", "、".join(after) or "无"
    audit_trail.append(audit_trail.Actor.of(lead, ip), "monitor.queues_set",
                       summary=f"调整 {agent.display_name} 的服务技能：{was} → {now_serving}",
                       data={"agent_id": agent_id, "before": before, "after": after})
    db.session.commit()
    push.publish(agent_id, "presence", {"notice": f"班长 {lead.display_name} 调整了您服务的技能：{now_serving}"})
    return _codes(serving, skill_ids)


def _codes(serving: dict, skill_ids: set[int]) -> list[str]:
    return sorted(q.code for s in skill_ids for q in serving[s][1])


def pull_agents(lead: User, now: datetime, ip: str | None) -> list[str]:
    """突发事件: every agent signed in but 示忙 goes to 示闲 (and takes a waiting call, or waiting
    conversations, at once). Returns their names."""
    resting = list(db.session.scalars(select(AgentPresence.user_id).where(AgentPresence.state == "not_ready")))
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(resting))).all())
    audit_trail.append(audit_trail.Actor.of(lead, ip), "monitor.pull_agents",
                       summary=f"突发事件：{len(resting)} 位示忙坐席转为示闲",
                       data={"agents": sorted(names.values())})
    db.session.commit()
    pulled = []
    for agent_id in resting:
        try:
            agents.set_state(agent_id, "ready", now)
        except presence.PresenceRefused:  # moved on (a call) since: leave them be
            db.session.rollback()
            continue
        push.publish(agent_id, "presence", {"notice": f"突发事件：班长 {lead.display_name} 已将您转为示闲"})
        pulled.append(names.get(agent_id, str(agent_id)))
    return pulled
