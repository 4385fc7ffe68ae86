"""What each role's home page says: its duties, and the screens that role opens every day."""

from __future__ import annotations

from dataclasses import dataclass

from app.navigation import NavItem, items_for
from app.roles import ROLE_LABELS

ROLE_HOME_TEXT: dict[str, str] = {
    "agent": "接听来电与在线咨询，受理诉求，当场答复或派单至承办部门，跟踪返单，答复市民并回访。",
    "team_lead": "关注监控大屏与班组运行，处理督办、提级与延期审批，维护知识库。",
    "qa": "每日抽检通话与工单，评分并分享典型案例。",
    "dept_handler": "接收本部门的派单，签收或退单，按时办理并返单，必要时申请延期。",
    "manager": "编辑并发布业务流程、时限规则、IVR 菜单、队列与技能，查看全部报表。",
    "auditor": "只读追溯每张工单的全过程，以及每一次对市民个人信息的访问。",
    "admin": "管理用户、部门、角色与技能，保障系统正常运行。",
}


@dataclass
class RoleSection:
    role: str
    label: str
    duties: str
    items: list[NavItem]


def role_sections(user) -> list[RoleSection]:
    """One section per role the user holds, with the screens that role's permissions open."""
    from app.auth.permissions import ROLE_PERMISSIONS

    available = items_for(user)
    sections = []
    for role in user.roles:
        perms = ROLE_PERMISSIONS[role]
        items = [item for item in available if item.permission in perms]
        sections.append(RoleSection(role, ROLE_LABELS[role], ROLE_HOME_TEXT[role], items))
    return sections
