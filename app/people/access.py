"""Who may look at an insured person, and the record of every look (PersonAccess).

A person's page opens only with a reason for looking: a ticket about that person (the ticket is
linked to them, or its caller's number is one of theirs — and the user may see the ticket), the
call or chat being served (`call:<id>`, `chat:<id>`), or a typed reason. A typed reason is kept in
the user's session for that person for GRANT_MINUTES, so one reason covers one conversation; each
page view is still logged on its own.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from flask import session
from sqlalchemy import insert, select

from app.auth.permissions import can
from app.auth.scope import may_see_department
from app.extensions import db
from app.models import Person, PersonAccess, PersonPhone, Ticket, User
from app.models.types import utcnow
from app.people import crypto
from app.people.identity import InvalidIdentifier, parse_phone

REASON_MIN = 4
REASON_MAX = 200
GRANT_MINUTES = 30
_GRANTS = "people_access_grants"
_MAX_GRANTS = 30
CONTEXT_RE = re.compile(r"^(call|chat):[A-Za-z0-9_.:\-]{1,60}$")


@dataclass(frozen=True)
class Access:
    """Why this look is happening: exactly what the access log records."""

    reason: str | None = None
    ticket_id: int | None = None
    context: str | None = None

    def url_args(self) -> dict:
        """The part that travels in links (a typed reason never goes into a URL)."""
        return {k: v for k, v in (("ticket", self.ticket_id), ("context", self.context)) if v}

    @property
    def description(self) -> str:
        parts = []
        if self.ticket_id:
            number = db.session.scalar(select(Ticket.number).where(Ticket.id == self.ticket_id))
            parts.append(f"工单 {number or self.ticket_id}")
        if self.context:
            kind, _, ref = self.context.partition(":")
            parts.append(f"{'来电' if kind == 'call' else '在线会话'} {ref}")
        if self.reason:
            parts.append(f"理由：{self.reason}")
        return "；".join(parts)


def check_reason(text: str | None) -> tuple[str, str | None]:
    """The cleaned reason and, when it will not do, why (in Chinese)."""
    reason = " ".join((text or "").split())
    if len(reason) < REASON_MIN:
        return reason, f"请填写查询理由（至少 {REASON_MIN} 个字），例如“核实来电人参保状态”。"
    if len(reason) > REASON_MAX:
        return reason, f"查询理由最多 {REASON_MAX} 个字。"
    return reason, None


def parse_context(text: str | None) -> str | None:
    value = (text or "").strip()
    return value if CONTEXT_RE.match(value) else None


def _ticket_about(user: User, ticket_id: int, person: Person) -> bool:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    if not (can(user, "tickets.view_all") or may_see_department(user, ticket.department_id)):
        return False
    if ticket.person_id == person.id:
        return True
    try:
        caller = parse_phone(ticket.caller_phone or "")
    except InvalidIdentifier:
        return False
    digest = crypto.lookup_hash(caller.value, crypto.PHONE)
    return db.session.scalar(select(PersonPhone.id).where(PersonPhone.person_id == person.id,
                                                          PersonPhone.value_hash == digest)) is not None


def access_from(user: User, person: Person, args) -> tuple[Access | None, str | None]:
    """The grounds the request carries (ticket / context in the URL, or a reason given earlier in
    this session); None and a Chinese note when there are none and a reason must be asked for."""
    note = None
    ticket_id = args.get("ticket", type=int)
    if ticket_id:
        if _ticket_about(user, ticket_id, person):
            return Access(ticket_id=ticket_id), None
        note = "所附工单与该参保人无关联（或您无权查看该工单），请填写查询理由。"
    raw_context = args.get("context")
    if raw_context:
        context = parse_context(raw_context)
        if context:
            return Access(context=context), None
        note = "来电或会话编号格式不正确（应为 call:编号 或 chat:编号），请填写查询理由。"
    reason = granted_reason(user, person.id)
    if reason:
        return Access(reason=reason), None
    return None, note


def grant(user: User, person_id: int, reason: str) -> None:
    grants = {k: v for k, v in session.get(_GRANTS, {}).items() if v[2] > time.time()}
    grants[str(person_id)] = [user.id, reason, time.time() + GRANT_MINUTES * 60]
    if len(grants) > _MAX_GRANTS:  # the cookie stays small: keep the newest
        grants = dict(sorted(grants.items(), key=lambda kv: kv[1][2])[-_MAX_GRANTS:])
    session[_GRANTS] = grants


def granted_reason(user: User, person_id: int) -> str | None:
    entry = session.get(_GRANTS, {}).get(str(person_id))
    if entry and entry[0] == user.id and entry[2] > time.time():
        return entry[1]
    return None


def record(user: User, action: str, person_id: int | None, access: Access | None, ip: str | None,
           detail: str | None = None) -> PersonAccess:
    """Add one access-log row to the session (the calling service commits it with its work)."""
    row = PersonAccess(user_id=user.id, username=user.username, role=",".join(user.roles)[:64] or None,
                       ip=ip, person_id=person_id, action=action, detail=detail)
    if access:
        row.reason, row.ticket_id, row.context = access.reason, access.ticket_id, access.context
    db.session.add(row)
    return row


def record_many(user: User, action: str, person_ids: list[int], access: Access | None, ip: str | None,
                detail: str | None = None) -> None:
    """One row per person, in one statement (search hits, exports)."""
    if not person_ids:
        return
    now = utcnow()
    base = {"occurred_at": now, "user_id": user.id, "username": user.username,
            "role": ",".join(user.roles)[:64] or None, "ip": ip, "action": action, "detail": detail,
            "reason": access.reason if access else None, "ticket_id": access.ticket_id if access else None,
            "context": access.context if access else None}
    db.session.execute(insert(PersonAccess), [base | {"person_id": pid} for pid in person_ids])
