"""Who may do what: the one role → permission table, and the decorator that enforces it.

Every route that is not public names one permission; tests walk this table against every
route (tests/test_permission_matrix.py), so a new route without a permission fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user, login_required

from app.roles import ADMIN, AGENT, AUDITOR, DEPT_HANDLER, MANAGER, QA, TEAM_LEAD

# Permission → what it allows (Chinese, shown on the admin's role page).
PERMISSIONS: dict[str, str] = {
    "admin.users": "管理用户、角色与技能",
    "admin.org": "管理部门与班组",
    "admin.system": "查看系统运行状态",
    "audit.logins": "查看登录日志",
    "tasks.work": "办理待办任务（收件箱）",
    "tickets.intake": "受理工单",
    "tickets.view_all": "查看全部工单",
    "tickets.view_department": "查看本部门工单",
    "tickets.handle_department": "办理本部门工单（签收、退单、返单、延期）",
    "tickets.supervise": "督办、改派、审批延期",
    "tickets.callback": "回访",
    "audit.trail": "查阅工单全程留痕与个人信息访问记录",
    "qa.sample": "质检抽检",
    "process.edit": "编辑与发布业务流程",
    "people.view": "查询与查看参保人资料（证件号、电话脱敏）",
    "people.reveal": "查看完整证件号与电话（须填写理由，记入访问记录）",
    "people.edit": "编辑参保人资料",
    "people.import": "批量导入参保人资料",
    "kb.view": "查阅知识库",
    "kb.edit": "编写与修改知识库文章（草稿）",
    "kb.review": "审核发布知识库文章、维护同义词、登记政策变更",
    "reports.view": "查看统计报表",
    "reports.assess": "月度考核：排除记录、标记不可抗力日、备注（记入审计）",
    "calls.work": "接听电话、切换坐席状态（示闲、示忙、签出）",
    "calls.view": "查看来电记录",
    "calls.configure": "配置呼叫队列、技能等级与溢出、等待时限",
    "calls.listen": "收听通话录音（每次收听记入审计）",
    "monitor.view": "查看实时监控大屏（坐席状态、排队、当日指标）",
    "schedule.edit": "编排坐席班次（周排班表、Excel 导入）",
    "monitor.act": "在监控大屏上干预：强制示忙或签出、调整坐席队列、突发事件全员示闲与广播",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    AGENT: frozenset({"tasks.work", "tickets.intake", "tickets.view_all", "tickets.callback", "people.view",
                      "people.edit", "kb.view", "calls.work"}),
    TEAM_LEAD: frozenset(
        {"tasks.work", "tickets.intake", "tickets.view_all", "tickets.callback", "tickets.supervise", "reports.view",
         "people.view", "people.reveal", "people.edit", "kb.view", "kb.edit", "kb.review", "calls.work", "calls.view",
         "calls.listen", "monitor.view", "monitor.act", "schedule.edit"}
    ),
    QA: frozenset({"tickets.view_all", "qa.sample", "kb.view", "kb.edit", "calls.view", "calls.listen"}),
    DEPT_HANDLER: frozenset({"tasks.work", "tickets.view_department", "tickets.handle_department", "kb.view"}),
    MANAGER: frozenset({"tickets.view_all", "process.edit", "reports.view", "admin.system", "people.import", "kb.view",
                        "kb.edit", "calls.view", "calls.configure", "monitor.view", "monitor.act",
                        "schedule.edit", "reports.assess"}),
    AUDITOR: frozenset({"tickets.view_all", "audit.trail", "audit.logins", "calls.view", "calls.listen"}),
    ADMIN: frozenset({"admin.users", "admin.org", "admin.system", "audit.logins", "people.import"}),
}

assert all(p in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for p in perms)


def permissions_of(roles: list[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def can(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if not getattr(user, "is_authenticated", False):
        return False
    return permission in permissions_of(user.roles)


F = TypeVar("F", bound=Callable)


def permission_required(*permissions: str) -> Callable[[F], F]:
    """Allow the view to users holding at least one of the permissions; 403 for the others."""
    for permission in permissions:
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not any(can(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permissions = permissions  # type: ignore[attr-defined]
        return login_required(wrapper)  # type: ignore[return-value]

    return decorator
