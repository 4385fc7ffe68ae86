"""Departments (承办部门), teams (班组) and skills: create, change, disable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Department, Skill, Team, User
from app.models.org import DEPARTMENT_KINDS, SKILL_KINDS
from app.roles import TEAM_LEAD

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
SKILL_CODE_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass
class DepartmentInput:
    code: str
    name: str
    kind: str
    parent_id: int | None
    phone: str | None = None
    sort_order: int = 0


def department_tree() -> list[tuple[Department, int]]:
    """Every department in tree order, with its depth (for indented lists and selects)."""
    all_depts = db.session.scalars(select(Department).order_by(Department.sort_order, Department.id)).all()
    by_parent: dict[int | None, list[Department]] = {}
    for dept in all_depts:
        by_parent.setdefault(dept.parent_id, []).append(dept)
    ordered: list[tuple[Department, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for dept in by_parent.get(parent_id, []):
            ordered.append((dept, depth))
            walk(dept.id, depth + 1)

    walk(None, 0)
    return ordered


def department_choices(active_only: bool = True, blank: str | None = None) -> list[tuple[int, str]]:
    choices = [(0, blank)] if blank is not None else []
    for dept, depth in department_tree():
        if dept.active or not active_only:
            choices.append((dept.id, "　" * depth + dept.name))
    return choices


def save_department(data: DepartmentInput, dept: Department | None = None) -> tuple[Department | None, list[str]]:
    errors = []
    if not CODE_RE.match(data.code):
        errors.append("部门编码须为 1–32 位字母、数字或 _ . -")
    else:
        clash = db.session.scalar(select(Department.id).where(func.lower(Department.code) == data.code.lower()))
        if clash is not None and (dept is None or clash != dept.id):
            errors.append(f"部门编码“{data.code}”已被使用")
    if not data.name.strip():
        errors.append("部门名称不能为空")
    if data.kind not in DEPARTMENT_KINDS:
        errors.append("部门类型无效")
    if data.parent_id is not None:
        parent = db.session.get(Department, data.parent_id)
        if parent is None:
            errors.append("上级部门不存在")
        elif dept is not None and (parent.id == dept.id or dept in parent.ancestors()):
            errors.append("上级部门不能是本部门或其下级部门")
    if errors:
        return None, errors
    dept = dept or Department(active=True)
    dept.code, dept.name, dept.kind = data.code, data.name.strip(), data.kind
    dept.parent_id, dept.phone, dept.sort_order = data.parent_id, data.phone or None, data.sort_order
    db.session.add(dept)
    db.session.commit()
    return dept, []


def set_department_active(dept: Department, active: bool) -> str | None:
    if not active and any(child.active for child in dept.children):
        return "该部门还有启用中的下级部门，请先停用下级部门"
    dept.active = active
    db.session.commit()
    return None


def save_team(name: str, department_id: int | None, leader_id: int | None,
              team: Team | None = None) -> tuple[Team | None, list[str]]:
    errors = []
    name = name.strip()
    clash = db.session.scalar(select(Team.id).where(Team.name == name))
    if not name:
        errors.append("班组名称不能为空")
    elif clash is not None and (team is None or clash != team.id):
        errors.append(f"班组名称“{name}”已被使用")
    if department_id is not None and db.session.get(Department, department_id) is None:
        errors.append("部门不存在")
    if leader_id is not None:
        leader = db.session.get(User, leader_id)
        if leader is None or not leader.has_role(TEAM_LEAD):
            errors.append("班长必须是拥有“班长”角色的用户")
    if errors:
        return None, errors
    team = team or Team(active=True)
    team.name, team.department_id, team.leader_id = name, department_id, leader_id
    db.session.add(team)
    db.session.commit()
    return team, []


def team_leader_choices() -> list[tuple[int, str]]:
    from app.models import UserRole

    leaders = db.session.scalars(
        select(User).where(User.id.in_(select(UserRole.user_id).where(UserRole.role == TEAM_LEAD)))
        .order_by(User.username)
    ).all()
    return [(0, "（未指定）")] + [(u.id, f"{u.display_name}（{u.username}）") for u in leaders]


def save_skill(code: str, name: str, kind: str, skill: Skill | None = None) -> tuple[Skill | None, list[str]]:
    errors = []
    code = code.strip()
    if not SKILL_CODE_RE.match(code):
        errors.append("技能编码须为 1–32 位小写字母、数字或下划线，如 en、chat")
    else:
        clash = db.session.scalar(select(Skill.id).where(Skill.code == code))
        if clash is not None and (skill is None or clash != skill.id):
            errors.append(f"技能编码“{code}”已被使用")
    if not name.strip():
        errors.append("技能名称不能为空")
    if kind not in SKILL_KINDS:
        errors.append("技能类别无效")
    if errors:
        return None, errors
    skill = skill or Skill(active=True)
    skill.code, skill.name, skill.kind = code, name.strip(), kind
    db.session.add(skill)
    db.session.commit()
    return skill, []
