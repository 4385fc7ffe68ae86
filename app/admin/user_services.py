"""Creating and changing accounts. The same rules serve the web form and the spreadsheet import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from app.auth.passwords import generate_password, hash_password, password_problems
from app.extensions import db
from app.models import Department, Skill, Team, User, UserSkill
from app.roles import DEPT_HANDLER, ROLE_LABELS

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Field name → the Chinese label used in messages and in the import sheet's header.
FIELD_LABELS = {
    "username": "用户名",
    "display_name": "姓名",
    "roles": "角色",
    "department_ids": "部门",
    "team_id": "班组",
    "skills": "技能",
    "employee_no": "工号",
    "phone": "手机",
    "email": "邮箱",
    "password": "初始密码",
}


@dataclass
class UserInput:
    username: str
    display_name: str
    roles: list[str]
    department_ids: list[int] = field(default_factory=list)
    team_id: int | None = None
    skills: dict[int, int] = field(default_factory=dict)  # skill id → level 1..5
    employee_no: str | None = None
    phone: str | None = None
    email: str | None = None
    password: str | None = None  # None: generate a temporary one


@dataclass
class FieldError:
    field: str
    message: str

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


def username_taken(username: str, except_id: int | None = None) -> bool:
    query = select(User.id).where(func.lower(User.username) == username.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return db.session.scalar(query) is not None


def validate_user(data: UserInput, existing: User | None = None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not USERNAME_RE.match(data.username):
        errors.append(FieldError("username", "用户名须为 3–64 位字母、数字或 _ . -"))
    elif username_taken(data.username, existing.id if existing else None):
        errors.append(FieldError("username", f"用户名“{data.username}”已被使用"))
    if not data.display_name.strip():
        errors.append(FieldError("display_name", "姓名不能为空"))
    if not data.roles:
        errors.append(FieldError("roles", "至少选择一个角色"))
    unknown = [r for r in data.roles if r not in ROLE_LABELS]
    if unknown:
        errors.append(FieldError("roles", "未知角色：" + "、".join(unknown)))
    if DEPT_HANDLER in data.roles and not data.department_ids:
        errors.append(FieldError("department_ids", "承办部门经办人必须至少属于一个部门"))
    for dept_id in data.department_ids:
        dept = db.session.get(Department, dept_id)
        if dept is None or not dept.active:
            errors.append(FieldError("department_ids", f"部门 {dept_id} 不存在或已停用"))
    if data.team_id is not None and db.session.get(Team, data.team_id) is None:
        errors.append(FieldError("team_id", "班组不存在"))
    for skill_id, level in data.skills.items():
        if db.session.get(Skill, skill_id) is None:
            errors.append(FieldError("skills", f"技能 {skill_id} 不存在"))
        elif not 1 <= level <= 5:
            errors.append(FieldError("skills", "技能等级须为 1–5"))
    if data.phone and not PHONE_RE.match(data.phone):
        errors.append(FieldError("phone", "手机号码格式不正确"))
    if data.email and not EMAIL_RE.match(data.email):
        errors.append(FieldError("email", "邮箱格式不正确"))
    if data.password is not None:
        for problem in password_problems(data.password, current_app.config["PASSWORD_MIN_LENGTH"], data.username):
            errors.append(FieldError("password", problem))
    return errors


def _apply(user: User, data: UserInput) -> None:
    user.username = data.username
    user.display_name = data.display_name.strip()
    user.employee_no = data.employee_no or None
    user.phone = data.phone or None
    user.email = data.email or None
    user.team_id = data.team_id
    user.set_roles(data.roles)
    user.departments = [db.session.get(Department, i) for i in data.department_ids]
    user.skills = [UserSkill(skill_id=sid, level=level) for sid, level in sorted(data.skills.items())]


def build_user(data: UserInput) -> tuple[User, str]:
    """A new account (added to the session, not committed) and its temporary password."""
    password = data.password or generate_password()
    user = User(password_hash=hash_password(password), must_change_password=True, active=True,
                failed_login_count=0, session_version=1)
    _apply(user, data)
    db.session.add(user)
    return user, password


def create_user(data: UserInput) -> tuple[User | None, str | None, list[FieldError]]:
    errors = validate_user(data)
    if errors:
        return None, None, errors
    user, password = build_user(data)
    db.session.commit()
    return user, password, []


def update_user(user: User, data: UserInput) -> list[FieldError]:
    errors = validate_user(data, existing=user)
    if errors:
        db.session.rollback()
        return errors
    _apply(user, data)
    db.session.commit()
    return []


def set_active(user: User, active: bool, actor: User) -> str | None:
    """Enable or disable an account; disabling signs the user out everywhere."""
    if user.id == actor.id and not active:
        return "不能停用自己的账户"
    user.active = active
    if not active:
        user.session_version += 1
    db.session.commit()
    return None


def reset_password(user: User) -> str:
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_version += 1
    user.failed_login_count = 0
    user.locked_until = None
    db.session.commit()
    return password


def unlock(user: User) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    db.session.commit()


def users_page(search: str, role: str, department_id: int | None, status: str, page: int, per_page: int = 30):
    from app.models import UserRole, user_department

    query = select(User).order_by(User.username)
    if search:
        like = f"%{search}%"
        query = query.where(User.username.ilike(like) | User.display_name.ilike(like) | User.employee_no.ilike(like))
    if role in ROLE_LABELS:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if department_id:
        query = query.where(User.id.in_(
            select(user_department.c.user_id).where(user_department.c.department_id == department_id)))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "disabled":
        query = query.where(User.active.is_(False))
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)
