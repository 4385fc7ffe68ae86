"""质检: each day's random sample of every agent's calls, chats and tickets (a configurable share,
stratified by agent and by channel so nobody and no channel is left out), scored with the seed's
error types; the agent may appeal once, the team lead decides; a sample can be shared as an
example case. QA accuracy (质检准确率) = correct samples / scored samples."""

from __future__ import annotations

import math
import random
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, Ticket, User
from app.models.quality import QA_ERRORS, QaSample
from app.refusals import Refused
from app.timefmt import local_day_bounds
from telephony_adapter import chats
from workflows import audit_trail

MAX_TEXT = 2000


class QaRefused(Refused):
    """A QA step that cannot be taken."""


def _pool(day: date) -> dict[tuple[int, str], list[tuple[str, int]]]:
    """Everything each agent did on `day`, by stratum (agent, channel): answered calls, chats they
    took, tickets they recorded."""
    start, end = local_day_bounds(day)
    pool: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for contact_id, agent_id, channel in db.session.execute(
            select(Contact.id, Contact.agent_id, Contact.channel).where(
                Contact.agent_id.is_not(None), Contact.started_at >= start, Contact.started_at < end,
                Contact.state == "ended", Contact.answered_at.is_not(None))):
        kind = "call" if channel == "phone" else "chat" if channel in chats.CHANNELS else None
        if kind:
            pool.setdefault((agent_id, channel), []).append((kind, contact_id))
    for ticket_id, owner_id, channel in db.session.execute(
            select(Ticket.id, Ticket.owner_id, Ticket.channel).where(
                Ticket.owner_id.is_not(None), Ticket.created_at >= start, Ticket.created_at < end)):
        pool.setdefault((owner_id, f"ticket:{channel}"), []).append(("ticket", ticket_id))
    return pool


def sample_day(day: date, share: float | None = None, seed: int | None = None) -> int:
    """Draw the day's sample (once: a day already sampled is left as it is). In each stratum,
    ceil(share × its size) items, so every agent with work on every channel has at least one.
    Returns how many samples were drawn."""
    if db.session.scalar(select(QaSample.id).where(QaSample.day == day).limit(1)) is not None:
        return 0
    share = current_app.config["QA_SAMPLE_SHARE"] if share is None else share
    chooser = random.Random(seed)  # noqa: S311 - a fair sample, not a secret
    drawn = 0
    for (agent_id, _channel), items in sorted(_pool(day).items()):
        for kind, item_id in chooser.sample(items, min(len(items), max(1, math.ceil(share * len(items))))):
            db.session.add(QaSample(day=day, agent_id=agent_id, kind=kind,
                                    contact_id=item_id if kind != "ticket" else None,
                                    ticket_id=item_id if kind == "ticket" else None))
            drawn += 1
    db.session.commit()
    return drawn


def _text(value: str, what: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise QaRefused(f"请填写{what}")
    if len(value) > MAX_TEXT:
        raise QaRefused(f"{what}最多 {MAX_TEXT} 个字")
    return value


def _actor(user: User, ip: str | None, role: str | None = None) -> audit_trail.Actor:
    return audit_trail.Actor.of(user, ip, role)


def score(reviewer: User, sample: QaSample, errors: list[str], comment: str, now: datetime, ip: str | None) -> None:
    unknown = set(errors) - set(QA_ERRORS)
    if unknown:
        raise QaRefused("错误类型无效")
    if sample.status not in ("pending", "scored"):
        raise QaRefused("该样本已在申诉或已裁定，不能再修改评分")
    if errors and not comment.strip():
        raise QaRefused("判定有错误时请写明问题所在")
    sample.errors = ",".join(code for code in QA_ERRORS if code in errors)
    sample.comment = _text(comment, "质检意见")
    sample.status, sample.reviewer_id, sample.reviewed_at = "scored", reviewer.id, now
    audit_trail.append(_actor(reviewer, ip, "qa"), "qa.score",
                       summary=f"质检 {sample.agent.display_name} 的{_what(sample)}："
                       + ("、".join(QA_ERRORS[e] for e in sample.error_codes) or "无差错"),
                       data={"sample_id": sample.id, "errors": sample.error_codes})
    db.session.commit()


def _what(sample: QaSample) -> str:
    from app.models.quality import QA_KINDS

    return QA_KINDS[sample.kind]


def appeal(agent: User, sample: QaSample, text: str, now: datetime, ip: str | None) -> None:
    if sample.agent_id != agent.id:
        raise QaRefused("只能对自己的质检结果申诉")
    if sample.status != "scored" or not sample.error_codes:
        raise QaRefused("只有判定有差错的质检结果可以申诉，且只能申诉一次")
    sample.appeal = _text(text, "申诉理由", required=True)
    sample.status, sample.appealed_at = "appealed", now
    audit_trail.append(_actor(agent, ip), "qa.appeal", summary=f"对质检结果申诉：{sample.appeal[:60]}",
                       data={"sample_id": sample.id})
    db.session.commit()


def decide(lead: User, sample: QaSample, upheld: bool, note: str, now: datetime, ip: str | None) -> None:
    if sample.status != "appealed":
        raise QaRefused("该样本没有待裁定的申诉")
    sample.decision = "upheld" if upheld else "overturned"
    sample.decision_note = _text(note, "裁定意见", required=True)
    sample.status, sample.decided_by, sample.decided_at = "decided", lead.id, now
    audit_trail.append(_actor(lead, ip, "team_lead"), "qa.decide",
                       summary=f"申诉裁定：{'维持原判' if upheld else '撤销差错'}（{sample.agent.display_name}）",
                       data={"sample_id": sample.id, "decision": sample.decision})
    db.session.commit()


def share_example(user: User, sample: QaSample, example: bool, ip: str | None) -> None:
    if sample.status == "pending":
        raise QaRefused("请先完成质检")
    sample.example = example
    audit_trail.append(_actor(user, ip), "qa.example", summary=("设为" if example else "取消") + "案例分享",
                       data={"sample_id": sample.id})
    db.session.commit()


def accuracy(samples: list[QaSample]) -> tuple[int, int]:
    """(correct, scored) over the samples QA has scored."""
    scored = [s for s in samples if s.correct is not None]
    return sum(1 for s in scored if s.correct), len(scored)
