"""Insured people (参保人): identifiers encrypted at rest and found by keyed hash, their phones,
the history of every change, the log of every look at them, and the batch imports that fill them.

Plain identifiers never reach these tables: `*_enc` holds AES-GCM ciphertext and `*_hash` an
HMAC of the normalised value (app/people/crypto.py); history keeps masked values only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.org import User
from app.models.types import UTCDateTime, utcnow

INSURANCE_TYPES: dict[str, str] = {"employee": "职工医保", "resident": "城乡居民医保"}
INSURED_STATUSES: dict[str, str] = {
    "active": "参保缴费",
    "suspended": "暂停参保",
    "arrears": "欠费",
    "terminated": "终止参保",
}
GENDERS: dict[str, str] = {"male": "男", "female": "女"}
PHONE_KINDS: dict[str, str] = {"mobile": "手机", "landline": "固定电话"}
ACCESS_ACTIONS: dict[str, str] = {
    "view": "查看资料",
    "search_hit": "查询命中",
    "reveal": "查看完整号码",
    "edit": "修改资料",
    "export": "导出",
}
IMPORT_MODES: dict[str, str] = {"strict": "严格模式", "lenient": "宽松模式"}
IMPORT_STATUSES: dict[str, str] = {
    "validating": "校验中",
    "previewed": "待确认导入",
    "committing": "导入中",
    "done": "已完成",
    "refused": "未导入",
    "failed": "失败",
    "discarded": "已放弃",
}


class PersonImport(db.Model):
    """One uploaded file of insured people: validated into a preview, then committed (or not)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_kind: Mapped[str] = mapped_column(String(8))  # xlsx, csv
    mode: Mapped[str] = mapped_column(String(10), default="strict")
    status: Mapped[str] = mapped_column(String(16), default="validating")
    job_id: Mapped[str | None] = mapped_column(String(64))  # the rq job a large file runs as
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, default=0)
    invalid_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_rows: Mapped[int] = mapped_column(Integer, default=0)  # preview: planned; after commit: written
    updated_rows: Mapped[int] = mapped_column(Integer, default=0)
    written_rows: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # 0–100 of the current phase
    message: Mapped[str | None] = mapped_column(String(500))  # why a file was refused or failed
    report_path: Mapped[str | None] = mapped_column(String(255))  # error report, relative to the instance folder
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    committed_by: Mapped[User | None] = relationship(foreign_keys=[committed_by_id])

    @property
    def status_label(self) -> str:
        return IMPORT_STATUSES.get(self.status, self.status)

    @property
    def mode_label(self) -> str:
        return IMPORT_MODES.get(self.mode, self.mode)

    @property
    def running(self) -> bool:
        return self.status in ("validating", "committing")


class Person(db.Model):
    """An insured person. Birth date and gender follow from the ID number."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(8))
    insurance_type: Mapped[str] = mapped_column(String(16))
    insured_status: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(200))  # 单位
    region: Mapped[str | None] = mapped_column(String(64))  # 区县
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("person_import.id"))  # the import that created it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    phones: Mapped[list[PersonPhone]] = relationship(back_populates="person", cascade="all, delete-orphan",
                                                     order_by="PersonPhone.id")
    created_by: Mapped[User | None] = relationship()

    @property
    def insurance_type_label(self) -> str:
        return INSURANCE_TYPES.get(self.insurance_type, self.insurance_type)

    @property
    def insured_status_label(self) -> str:
        return INSURED_STATUSES.get(self.insured_status, self.insured_status)

    @property
    def gender_label(self) -> str:
        return GENDERS.get(self.gender, self.gender)

    def age_on(self, day: date) -> int:
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class PersonPhone(db.Model):
    """One of a person's numbers (mobile, or landline with area code); several people may share one."""

    __table_args__ = (UniqueConstraint("person_id", "value_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    value_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="phones")

    @property
    def kind_label(self) -> str:
        return PHONE_KINDS.get(self.kind, self.kind)


class PersonChange(db.Model):
    """One field of a person changed by someone (or by an import): old → new, identifiers masked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("person_import.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()


class PersonAccess(db.Model):
    """One look at personal data: a page view, a search hit, a reveal, an edit or an export.

    `reason` is what the user typed; `ticket_id` / `context` (call:…, chat:…) the work it served."""

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    context: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()
    person: Mapped[Person | None] = relationship()

    @property
    def action_label(self) -> str:
        return ACCESS_ACTIONS.get(self.action, self.action)
