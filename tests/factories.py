"""Data helpers for the tests: departments, teams, skills and users in a known state."""

from __future__ import annotations

from app.auth.passwords import hash_password
from app.extensions import db
from app.models import Department, Skill, Team, User, UserSkill

PASSWORD = "Passw0rd!"
_HASH_CACHE: dict[str, str] = {}


def department(code: str, name: str | None = None, parent: Department | None = None, kind: str = "section") -> Department:
    dept = Department(code=code, name=name or f"{code} 部门", kind=kind, parent=parent, active=True, sort_order=0)
    db.session.add(dept)
    db.session.commit()
    return dept


def skill(code: str, name: str | None = None, kind: str = "business") -> Skill:
    row = Skill(code=code, name=name or code, kind=kind, active=True)
    db.session.add(row)
    db.session.commit()
    return row


def chat_queue(code: str, skill_code: str, name: str) -> Skill:
    """A chat channel's queue (wechat, weibo, web_chat) served by a new skill of its own."""
    from app.models import CallQueue

    row = skill(skill_code, name)
    db.session.add(CallQueue(code=code, name=name, skill_id=row.id, min_level=1))
    db.session.commit()
    return row


def team(name: str, leader: User | None = None) -> Team:
    row = Team(name=name, leader=leader, active=True)
    db.session.add(row)
    db.session.commit()
    return row


def user(username: str, roles: list[str], departments: list[Department] | None = None,
         password: str = PASSWORD, must_change: bool = False, display_name: str | None = None,
         skills: dict[Skill, int] | None = None) -> User:
    if password not in _HASH_CACHE:  # Argon2 is slow on purpose; tests reuse the hash
        _HASH_CACHE[password] = hash_password(password)
    row = User(username=username, display_name=display_name or username, password_hash=_HASH_CACHE[password],
               active=True, must_change_password=must_change, failed_login_count=0, session_version=1)
    row.set_roles(roles)
    row.departments = departments or []
    row.skills = [UserSkill(skill=s, level=lvl) for s, lvl in (skills or {}).items()]
    db.session.add(row)
    db.session.commit()
    return row


def ready_agent(name: str, skill_code: str, level: int = 3):
    """An agent with an existing skill, at `level`, who has pressed 示闲 (calls and chats go to them)."""
    from sqlalchemy import select

    from telephony_adapter import agents
    from workflows import clock

    person = user(name, ["agent"])
    skill = db.session.scalar(select(Skill).where(Skill.code == skill_code))
    db.session.add(UserSkill(user_id=person.id, skill_id=skill.id, level=level))
    db.session.commit()
    agents.set_state(person.id, "ready", clock.now())
    return person


def ticket_started(agent: User) -> int:
    """A ticket just recorded by `agent` (waiting to be dispatched); returns its id."""
    from workflows import engine
    from workflows.audit_trail import Actor

    ticket = engine.start_ticket({"channel": "phone", "category": "consultation", "urgency": "normal",
                                  "subject": "咨询报销比例", "content": "门诊报销比例是多少？"},
                                 Actor(agent.id, agent.username, "agent"))
    return ticket.id
