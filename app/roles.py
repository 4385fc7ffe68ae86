"""The hotline's roles: code names used in the database and code, Chinese names for the UI."""

from __future__ import annotations

AGENT = "agent"
TEAM_LEAD = "team_lead"
QA = "qa"
DEPT_HANDLER = "dept_handler"
MANAGER = "manager"
AUDITOR = "auditor"
ADMIN = "admin"

ROLE_LABELS: dict[str, str] = {
    AGENT: "坐席",
    TEAM_LEAD: "班长",
    QA: "质检员",
    DEPT_HANDLER: "承办部门经办人",
    MANAGER: "业务主管",
    AUDITOR: "审计员",
    ADMIN: "系统管理员",
}

ROLES: tuple[str, ...] = tuple(ROLE_LABELS)

# Accepted in spreadsheets and forms besides the code names, so that staff can type Chinese.
ROLE_ALIASES: dict[str, str] = {
    **{label: code for code, label in ROLE_LABELS.items()},
    "话务员": AGENT,
    "现场管理": TEAM_LEAD,
    "经办人": DEPT_HANDLER,
    "项目经理": MANAGER,
    "监督": AUDITOR,
    "审计": AUDITOR,
    "管理员": ADMIN,
}


def parse_role(text: str) -> str | None:
    """A role code from its code name or a Chinese name; None when unknown."""
    value = text.strip()
    if value in ROLE_LABELS:
        return value
    return ROLE_ALIASES.get(value)
