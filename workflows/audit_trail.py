"""The append-only, hash-chained audit trail (服务留痕): append within the caller's transaction,
and verify the whole chain (`hotline audit-verify`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, AuditHead
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


def _canonical(entry: AuditEntry) -> str:
    return json.dumps(
        [entry.seq, entry.occurred_at.isoformat(), entry.ticket_id, entry.user_id, entry.username, entry.role,
         entry.ip, entry.action, entry.task_name, entry.summary, entry.data_json],
        ensure_ascii=False, separators=(",", ":"),
    )


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256((entry.prev_hash + _canonical(entry)).encode()).hexdigest()


def _head() -> AuditHead:
    # FOR UPDATE serialises appenders on PostgreSQL until they commit; SQLite has one writer anyway.
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def append(actor: Actor, action: str, *, ticket_id: int | None = None, task_name: str | None = None,
           summary: str | None = None, data: dict | None = None, at: datetime | None = None) -> AuditEntry:
    """Add one entry to the chain, in the caller's transaction (it commits with the step)."""
    head = _head()
    moment = at or utcnow()
    entry = AuditEntry(
        seq=head.seq + 1, occurred_at=moment, ticket_id=ticket_id, user_id=actor.user_id,
        username=actor.username, role=actor.role, ip=actor.ip, action=action, task_name=task_name,
        summary=summary, data_json=json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) if data else None,
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problems: list[str]


def verify(batch: int = 5000) -> ChainReport:
    """Walk the chain from the first entry; report every broken link in Chinese."""
    problems: list[str] = []
    previous_hash, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.seq >= expected_seq)
                                  .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                problems.append(f"第 {expected_seq}–{entry.seq - 1} 条记录缺失（被删除）")
            if entry.prev_hash != previous_hash:
                problems.append(f"第 {entry.seq} 条记录的前序哈希不符（前一条被修改或删除）")
            if entry_hash(entry) != entry.hash:
                problems.append(f"第 {entry.seq} 条记录的内容与哈希不符（被修改）")
            previous_hash, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
            checked += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != previous_hash):
        problems.append(f"链尾应为第 {head.seq} 条，实际为第 {last_seq} 条（末尾记录被删除或修改）")
    return ChainReport(ok=not problems, checked=checked, problems=problems)
