"""The organisation: departments (承办部门), teams (班组), skills, users and their roles."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.roles import ROLE_LABELS

DEPARTMENT_KINDS: dict[str, str] = {
    "centre": "中心",
    "section": "科室",
    "district_bureau": "区县分局",
    "other": "其他单位",
}

SKILL_KINDS: dict[str, str] = {
    "language": "语言",
    "channel": "渠道",
    "business": "业务线",
}

user_department = Table(
    "user_department",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    """A unit that handles dispatched tickets: the centre, its sections, district bureaus."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="section")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(
        back_populates="parent", order_by="Department.sort_order, Department.id"
    )

    @property
    def kind_label(self) -> str:
        return DEPARTMENT_KINDS.get(self.kind, self.kind)

    def ancestors(self) -> list[Department]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def path_name(self) -> str:
        return " / ".join(d.name for d in reversed([self, *self.ancestors()]))


class Team(db.Model):
    """A shift team (班组) of agents under one team lead."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department | None] = relationship()
    # post_update: a team and its leader reference each other, so the leader is set after both exist.
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.username"
    )


class Skill(db.Model):
    """Something an agent can serve: a language (en), a channel (chat, video), a business line."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default="business")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def kind_label(self) -> str:
        return SKILL_KINDS.get(self.kind, self.kind)


class UserSkill(db.Model):
    """An agent's level (1 beginner … 5 expert) in one skill; the ACD prefers higher levels."""

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=1)

    skill: Mapped[Skill] = relationship(lazy="joined")


class UserRole(db.Model):
    """One role held by a user; the role → permission table lives in code (app.auth.permissions)."""

    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))


class User(UserMixin, db.Model):
    """A member of the hotline's staff or of a department."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    employee_no: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped whenever the password changes or the account is disabled: it is part of the
    # session's user id, so every other open session of that user stops working at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by=UserRole.id, lazy="selectin"
    )
    departments: Mapped[list[Department]] = relationship(
        secondary=user_department, order_by=Department.id, lazy="selectin"
    )
    skills: Mapped[list[UserSkill]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # --- roles -----------------------------------------------------------------------------
    @property
    def roles(self) -> list[str]:
        order = list(ROLE_LABELS)
        return sorted((r.role for r in self.role_rows), key=order.index)

    def set_roles(self, roles: list[str]) -> None:
        unknown = set(roles) - set(ROLE_LABELS)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        keep = [r for r in self.role_rows if r.role in roles]
        have = {r.role for r in keep}
        self.role_rows = keep + [UserRole(role=r) for r in roles if r not in have]

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in self.roles]

    # --- Flask-Login -------------------------------------------------------------------------
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def skill_level(self, code: str) -> int:
        return next((s.level for s in self.skills if s.skill.code == code), 0)
