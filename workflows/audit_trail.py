"""The append-only, hash-chained audit trail (服务留痕): append within the caller's transaction,
and verify every chain (`hotline audit-verify`).

Each ticket has its own chain, headed by `ticket.audit_hash` — the ticket row is locked by every
step already, so appending costs no extra lock and steps on different tickets never wait for
each other. Entries about no ticket (administration, later) form one global chain headed by the
AuditHead row, which is locked while appending."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, AuditHead, Ticket
from app.models.types import utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user in one of their roles, or the platform itself (timers)."""

    user_id: int | None
    username: str
    role: str | None
    ip: str | None = None

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(None, what, None, None)

    @classmethod
    def of(cls, user, ip: str | None, role: str | None = None) -> Actor:
        """A signed-in user acting in `role`, or in their leading role (班长 before the rest)."""
        if role is None:
            role = "team_lead" if user.has_role("team_lead") else next(iter(user.roles), None)
        return cls(user.id, user.username, role, ip)


_CANONICAL_FIELDS = ("ticket_id", "user_id", "username", "role", "ip", "action", "task_name", "summary", "data_json")


def _canonical(values: dict) -> str:
    return json.dumps([values["occurred_at"].isoformat(), *(values[name] for name in _CANONICAL_FIELDS)],
                      ensure_ascii=False, separators=(",", ":"))


def entry_hash(entry: AuditEntry) -> str:
    values = {name: getattr(entry, name) for name in ("occurred_at", *_CANONICAL_FIELDS)}
    return _hash(entry.prev_hash, values)


def _hash(prev_hash: str, values: dict) -> str:
    return hashlib.sha256((prev_hash + _canonical(values)).encode()).hexdigest()


def entry_values(actor: Actor, action: str, *, ticket, prev_hash: str | None = None, task_name: str | None = None,
                 summary: str | None = None, data: dict | None = None, at: datetime | None = None) -> dict:
    """The column values of the next entry of a chain, hash included. For a ticket (a mapped
    Ticket or an engine TicketRow) the chain's head moves to the new entry."""
    values = {
        "occurred_at": at or utcnow(), "ticket_id": ticket.id if ticket is not None else None,
        "user_id": actor.user_id, "username": actor.username, "role": actor.role, "ip": actor.ip,
        "action": action, "task_name": task_name, "summary": summary,
        "data_json": json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) if data else None,
        "prev_hash": (ticket.audit_hash or GENESIS) if ticket is not None else prev_hash,
    }
    values["hash"] = _hash(values["prev_hash"], values)
    if ticket is not None:
        ticket.audit_hash = values["hash"]
    return values


def _global_head() -> AuditHead:
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def append(actor: Actor, action: str, *, ticket: Ticket | None = None, task_name: str | None = None,
           summary: str | None = None, data: dict | None = None, at: datetime | None = None) -> AuditEntry:
    """Add one entry to its chain, in the caller's transaction (it commits with the step).
    For a ticket, the caller holds the ticket's lock (every engine step does)."""
    head = None if ticket is not None else _global_head()
    entry = AuditEntry(**entry_values(actor, action, ticket=ticket, prev_hash=head.hash if head else None,
                                      task_name=task_name, summary=summary, data=data, at=at))
    db.session.add(entry)
    if head is not None:
        head.seq, head.hash = head.seq + 1, entry.hash
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problems: list[str]


def _walk(entries: list[AuditEntry], expected_head: str | None, label: str, problems: list[str]) -> None:
    previous = GENESIS
    for entry in entries:
        if entry.prev_hash != previous:
            problems.append(f"{label}：第 {entry.seq} 条记录的前序哈希不符（其前一条被修改或删除）")
        if entry_hash(entry) != entry.hash:
            problems.append(f"{label}：第 {entry.seq} 条记录的内容与哈希不符（被修改）")
        previous = entry.hash
    if (expected_head or GENESIS) != previous:
        problems.append(f"{label}：链尾与记录不符（末尾记录被删除或修改）")


def verify() -> ChainReport:
    """Walk every chain from its first entry; report every broken link in Chinese."""
    problems: list[str] = []
    checked = 0
    heads = dict(db.session.execute(select(Ticket.id, Ticket.audit_hash)).all())
    numbers = dict(db.session.execute(select(Ticket.id, Ticket.number)).all())
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.ticket_id, AuditEntry.seq)).all()
    seen: set[int | None] = set()
    for ticket_id, group in groupby(entries, key=lambda e: e.ticket_id):
        chain = list(group)
        checked += len(chain)
        seen.add(ticket_id)
        if ticket_id is None:
            head = db.session.get(AuditHead, 1)
            _walk(chain, head.hash if head else None, "系统记录", problems)
        else:
            _walk(chain, heads.get(ticket_id), f"工单 {numbers.get(ticket_id, ticket_id)}", problems)
    for ticket_id, head in heads.items():
        if head and ticket_id not in seen:
            problems.append(f"工单 {numbers[ticket_id]}：全部审计记录缺失（被删除）")
    return ChainReport(ok=not problems, checked=checked, problems=problems)


def verify_ticket(ticket: Ticket) -> ChainReport:
    """Check one ticket's chain (the auditor's view of that ticket)."""
    problems: list[str] = []
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.seq)).all()
    _walk(list(entries), ticket.audit_hash, f"工单 {ticket.number}", problems)
    return ChainReport(ok=not problems, checked=len(entries), problems=problems)
