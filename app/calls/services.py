"""What the screen pop (来电弹屏) shows about a call: the caller's earlier calls and tickets and the
insured people registered with the number (masked; the look is logged with the call as grounds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import select

from app.auth.permissions import can
from app.extensions import db
from app.models import CallQueue, Contact, Ticket, User
from app.people import services as people
from app.people.access import Access
from app.people.identity import InvalidIdentifier
from app.refusals import Refused


@dataclass
class Pop:
    contact: Contact
    ivr_steps: list[str]
    earlier_calls: list[Contact] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    people: list = field(default_factory=list)


def visible_contact(user: User, contact_id: int) -> Contact:
    """The agent the call went to, or anyone who may read call records."""
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    if contact.agent_id != user.id and not can(user, "calls.view"):
        abort(403)
    return contact


def _ivr_steps(contact: Contact) -> list[str]:
    by_digit = {q.ivr_digit: q.name for q in db.session.scalars(select(CallQueue).where(CallQueue.ivr_digit.is_not(None)))}
    return [f"{digit}（{by_digit[digit]}）" if digit in by_digit else digit
            for digit in contact.ivr_path.split(">") if digit]


def screen_pop(user: User, contact: Contact, ip: str | None) -> Pop:
    pop = Pop(contact, _ivr_steps(contact))
    if not contact.caller:
        return pop
    pop.earlier_calls = list(db.session.scalars(
        select(Contact).where(Contact.caller == contact.caller, Contact.id != contact.id)
        .order_by(Contact.started_at.desc()).limit(5)))
    pop.tickets = list(db.session.scalars(
        select(Ticket).where(Ticket.caller_phone == contact.caller).order_by(Ticket.created_at.desc()).limit(5)))
    if can(user, "people.view"):
        try:
            _shown, pop.people = people.lookup_phone(user, contact.caller, Access(context=f"call:{contact.id}"), ip)
        except InvalidIdentifier:
            pop.people = []  # an anonymous or foreign number: nobody to look up
    return pop


def link_to_ticket(user: User, contact: Contact, ticket_id: int, ip: str | None) -> Ticket:
    """A follow-up call about an existing ticket (催办, 补充材料): the call is linked to it, and the
    ticket's audit chain records who linked which call — in one transaction."""
    from workflows import engine
    from workflows.audit_trail import Actor

    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise engine.StepRefused("工单不存在")
    if contact.ticket_id is not None:
        raise engine.StepRefused("该来电已关联工单")

    def link(locked) -> None:
        contact.ticket_id = locked.id

    engine.annotate(ticket.id, Actor(user.id, user.username, "agent", ip), "call.link",
                    f"关联来电 {contact.caller or '未知号码'}", {"contact_id": contact.id, "call_id": contact.call_id}, link)
    return ticket


def link_recorded_ticket(contact_id: int | None, ticket_id: int, user: User, ip: str | None) -> None:
    """The ticket an agent recorded from the call they took: linked the same way as a follow-up
    call (for the survey and the reports), when the call is theirs and not linked yet."""
    contact = db.session.get(Contact, contact_id) if contact_id else None
    if contact is not None and contact.ticket_id is None and (contact.agent_id == user.id or can(user, "calls.view")):
        link_to_ticket(user, contact, ticket_id, ip)


def play_recording(user: User, contact: Contact, ip: str | None) -> bytes:
    """The call's recording as WAV; the play is audited (who, when, from where, which call)."""
    from flask import current_app

    from telephony_adapter import recordings
    from workflows import audit_trail

    folder = current_app.config.get("RECORDINGS_DIR")
    if not folder:
        abort(404)
    try:
        path = recordings.resolve(folder, contact.recording)
        audio = recordings.wav_from_pcap(path.read_bytes())
    except (ValueError, OSError):
        abort(404)
    audit_trail.append(audit_trail.Actor.of(user, ip), "recording.play",
                       summary=f"收听通话录音（来电 {contact.caller or '未知号码'}）",
                       data={"contact_id": contact.id, "call_id": contact.call_id, "ticket_id": contact.ticket_id})
    db.session.commit()
    return audio


TALK_ACTIONS = {"consult": "咨询", "conference": "三方通话", "transfer": "转接", "cancel": "取消咨询"}


class TalkRefused(Refused):
    """A 咨询 / 三方 / 转接 command refused (by the platform or the voice platform)."""


def talk_targets(user: User) -> list[User]:
    """Whom an agent may bring into a call: colleagues who take calls and department handlers
    (their phones register under their user names)."""
    from app.models.org import UserRole
    from app.roles import AGENT, DEPT_HANDLER, TEAM_LEAD

    return [u for u in db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), User.id != user.id, UserRole.role.in_((AGENT, TEAM_LEAD, DEPT_HANDLER)))
        .distinct().order_by(User.display_name))]


def talk_command(user: User, contact: Contact, action: str, target: str | None, ip: str | None) -> None:
    """咨询 / 三方 / 转接 / 取消咨询 on the agent's own call, carried out by the media component that
    bridges it; the command is audited (who brought whom into which call)."""
    import requests
    from flask import current_app

    from workflows import audit_trail

    if action not in TALK_ACTIONS:
        raise TalkRefused("未知的操作")
    if contact.agent_id != user.id or contact.state not in ("talking", "held"):
        raise TalkRefused("只能操作自己正在进行的通话")
    url = current_app.config.get("MEDIA_CONTROL_URL")
    if not url or not contact.leg_call_id:
        raise TalkRefused("该通话不经过语音平台，无法咨询或转接")
    colleague = None
    if action == "consult":
        colleague = next((u for u in talk_targets(user) if u.username == target), None)
        if colleague is None:
            raise TalkRefused("请选择要咨询的同事")
    try:
        answer = requests.post(f"{url.rstrip('/')}/calls/{requests.utils.quote(contact.call_id, safe='')}/{action}",
                               json={"target": colleague.username if colleague else None}, timeout=3,
                               headers={"Authorization": f"Bearer {current_app.config['CTI_TOKEN']}"})
    except requests.RequestException as exc:
        raise TalkRefused("语音平台无响应，请稍后再试") from exc
    if answer.status_code != 200:
        try:
            message = answer.json().get("message")
        except ValueError:
            message = None
        raise TalkRefused(message or "语音平台拒绝了该操作")
    audit_trail.append(audit_trail.Actor.of(user, ip), f"call.{action}",
                       summary=f"{TALK_ACTIONS[action]}（来电 {contact.caller or '未知号码'}）"
                       + (f"：{colleague.display_name}" if colleague else ""),
                       data={"contact_id": contact.id, "call_id": contact.call_id, "ticket_id": contact.ticket_id,
                             "target": colleague.username if colleague else None})
    db.session.commit()
