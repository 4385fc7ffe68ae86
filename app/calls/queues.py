"""Managers' settings for the ACD: queues with their skill, overflow and waiting limits."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import CallQueue, Skill

CODE_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def skill_choices(with_none: bool = False) -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Skill).where(Skill.active.is_(True)).order_by(Skill.kind, Skill.code))
    return ([(0, "（不溢出）")] if with_none else []) + [(s.id, f"{s.name}（{s.code}）") for s in rows]


def save_queue(form, queue: CallQueue | None) -> tuple[CallQueue | None, list[str]]:
    """Check and save; the errors name the field in Chinese. One transaction."""
    errors = []
    code = form.code.data.strip()
    if not CODE_RE.match(code):
        errors.append("队列编码须为 1–32 位小写字母、数字或下划线")
    clash = db.session.scalar(select(CallQueue.id).where(CallQueue.code == code))
    if clash is not None and (queue is None or clash != queue.id):
        errors.append(f"队列编码“{code}”已被使用")
    digit = (form.ivr_digit.data or "").strip() or None
    if digit and not digit.isdigit():
        errors.append("语音导航按键须为数字")
    elif digit:
        taken = db.session.scalar(select(CallQueue.name).where(CallQueue.ivr_digit == digit,
                                                               CallQueue.id != (queue.id if queue else -1)))
        if taken:
            errors.append(f"按键 {digit} 已分配给队列“{taken}”")
    overflow = form.overflow_skill_id.data or None
    if overflow == form.skill_id.data:
        errors.append("溢出技能应与服务技能不同")
    if overflow and not form.overflow_after_seconds.data:
        errors.append("设置了溢出技能时，请填写溢出等待秒数")
    if errors:
        return None, errors
    queue = queue or CallQueue()
    queue.code, queue.name = code, form.name.data.strip()
    queue.skill_id, queue.min_level = form.skill_id.data, form.min_level.data
    queue.overflow_skill_id, queue.overflow_after_seconds = overflow, form.overflow_after_seconds.data or 0
    queue.max_wait_seconds = form.max_wait_seconds.data or 0
    queue.ivr_digit, queue.dialled_number = digit, (form.dialled_number.data or "").strip() or None
    queue.active = bool(form.active.data)
    db.session.add(queue)
    db.session.commit()
    return queue, []
