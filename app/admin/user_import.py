"""Importing accounts from an .xlsx sheet: every row is checked, and nothing is written unless
every row is valid — a half-imported roster is worse than none."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import IO

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import spreadsheets
from app.admin.user_services import FIELD_LABELS, UserInput, build_user, validate_user
from app.extensions import db
from app.models import Department, Skill, Team, User
from app.roles import ROLE_LABELS, parse_role

COLUMNS: dict[str, str] = {label: name for name, label in FIELD_LABELS.items()}
REQUIRED_COLUMNS = ("用户名", "姓名", "角色")
MAX_ROWS = 5000
_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class RowError:
    row: int  # the spreadsheet's own row number, as the admin sees it in Excel
    column: str
    message: str


@dataclass
class ImportOutcome:
    created: list[tuple[User, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and self.file_error is None


def read_rows(stream: IO[bytes]) -> tuple[list[tuple[int, dict[str, str]]], str | None]:
    return spreadsheets.read_rows(stream, COLUMNS, REQUIRED_COLUMNS, MAX_ROWS)


class _Lookups:
    """Departments, teams and skills by code or name, read once per import."""

    def __init__(self) -> None:
        depts = db.session.scalars(select(Department).where(Department.active.is_(True))).all()
        self.departments = {d.code.lower(): d.id for d in depts} | {d.name: d.id for d in depts}
        self.teams = {t.name: t.id for t in db.session.scalars(select(Team))}
        skills = db.session.scalars(select(Skill).where(Skill.active.is_(True))).all()
        self.skills = {s.code: s.id for s in skills} | {s.name: s.id for s in skills}


def _parse_row(cells: dict[str, str], lookups: _Lookups) -> tuple[UserInput, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    roles = []
    for token in filter(None, _SPLIT.split(cells.get("roles", ""))):
        role = parse_role(token)
        if role is None:
            problems.append(("角色", f"未知角色“{token}”，可用：" + "、".join(ROLE_LABELS.values())))
        elif role not in roles:
            roles.append(role)
    department_ids = []
    for token in filter(None, _SPLIT.split(cells.get("department_ids", ""))):
        dept_id = lookups.departments.get(token.lower(), lookups.departments.get(token))
        if dept_id is None:
            problems.append(("部门", f"找不到部门“{token}”（填写部门编码或全称）"))
        elif dept_id not in department_ids:
            department_ids.append(dept_id)
    team_id = None
    if cells.get("team_id"):
        team_id = lookups.teams.get(cells["team_id"])
        if team_id is None:
            problems.append(("班组", f"找不到班组“{cells['team_id']}”"))
    skills: dict[int, int] = {}
    for token in filter(None, _SPLIT.split(cells.get("skills", ""))):
        code, _, level_text = token.replace("：", ":").partition(":")
        skill_id = lookups.skills.get(code)
        if skill_id is None:
            problems.append(("技能", f"找不到技能“{code}”"))
            continue
        if level_text and not level_text.isdigit():
            problems.append(("技能", f"技能“{code}”的等级“{level_text}”不是数字"))
            continue
        skills[skill_id] = int(level_text or 1)
    data = UserInput(
        username=cells.get("username", ""),
        display_name=cells.get("display_name", ""),
        roles=roles,
        department_ids=department_ids,
        team_id=team_id,
        skills=skills,
        employee_no=cells.get("employee_no") or None,
        phone=cells.get("phone") or None,
        email=cells.get("email") or None,
        password=cells.get("password") or None,
    )
    return data, problems


def import_users(stream: IO[bytes]) -> ImportOutcome:
    """Validate every row; when all pass, create every account in one transaction."""
    rows, file_error = read_rows(stream)
    outcome = ImportOutcome(file_error=file_error, rows_read=len(rows))
    if file_error:
        return outcome
    if not rows:
        outcome.file_error = "表格中没有数据行。"
        return outcome
    lookups = _Lookups()
    seen: dict[str, int] = {}
    parsed: list[UserInput] = []
    for number, cells in rows:
        data, problems = _parse_row(cells, lookups)
        outcome.errors += [RowError(number, column, message) for column, message in problems]
        if not problems:
            for error in validate_user(data):
                outcome.errors.append(RowError(number, error.label, error.message))
        key = data.username.lower()
        if key and key in seen:
            outcome.errors.append(RowError(number, "用户名", f"与第 {seen[key]} 行的用户名重复"))
        seen.setdefault(key, number)
        parsed.append(data)
    if outcome.errors:
        return outcome
    try:
        outcome.created = [build_user(data) for data in parsed]
        db.session.commit()
    except IntegrityError:
        # Someone created one of these users between our check and the commit.
        db.session.rollback()
        outcome.created = []
        outcome.file_error = "导入时数据已被他人修改（用户名冲突），未写入任何数据，请重新导入。"
    return outcome


def template_workbook() -> bytes:
    """The import template: the header, one example row, and a sheet listing valid values."""
    book = Workbook()
    sheet = book.active
    sheet.title = "用户"
    sheet.append([f"{label}*" if label in REQUIRED_COLUMNS else label for label in COLUMNS])
    sheet.append(["zhangsan", "张三", "坐席", "RX", "一班", "en:3, chat:2", "1001", "13800000000",
                  "zhangsan@example.cn", ""])
    for column in "ABCDEFGHIJ":
        sheet.column_dimensions[column].width = 16
    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明"])
    notes.append(["角色", "多个用顿号或逗号分隔：" + "、".join(ROLE_LABELS.values())])
    notes.append(["部门", "部门编码或全称，多个用逗号分隔；承办部门经办人必填"])
    notes.append(["技能", "技能编码:等级(1–5)，如 en:3, chat:2；不写等级为 1"])
    notes.append(["初始密码", "可留空，系统生成临时密码；首次登录须修改"])
    for dept in db.session.scalars(select(Department).where(Department.active.is_(True))):
        notes.append([f"部门 {dept.code}", dept.name])
    for skill in db.session.scalars(select(Skill).where(Skill.active.is_(True))):
        notes.append([f"技能 {skill.code}", skill.name])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
