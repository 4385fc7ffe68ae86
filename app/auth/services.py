"""Signing in and out, lock-out after repeated failures, throttling per address, password change."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import func, select

from app.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.extensions import db
from app.models import LoginEvent, User
from app.models.types import utcnow
from app.redis_client import get_redis
from app.timefmt import local_time

log = logging.getLogger(__name__)


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None


def _record(username: str, outcome: str, user: User | None, ip: str | None, agent: str | None) -> None:
    db.session.add(
        LoginEvent(
            username=username[:64],
            user_id=user.id if user else None,
            outcome=outcome,
            ip=ip,
            user_agent=(agent or "")[:255] or None,
        )
    )


def _ip_key(ip: str | None) -> str:
    return f"hotline:login-failures:{ip or 'unknown'}"


def _ip_throttled(ip: str | None) -> bool:
    limit = current_app.config["LOGIN_IP_MAX_FAILURES"]
    try:
        count = get_redis().get(_ip_key(ip))
    except redis.RedisError:  # Redis down must not lock everybody out; account lock-out still holds
        log.warning("Redis unavailable for login throttling")
        return False
    return count is not None and int(count) >= limit


def _note_ip_failure(ip: str | None) -> None:
    window = current_app.config["LOGIN_IP_WINDOW_MINUTES"] * 60
    try:
        # SET NX EX starts the window with the first failure; INCR keeps its expiry.
        pipe = get_redis().pipeline()
        pipe.set(_ip_key(ip), 0, ex=window, nx=True)
        pipe.incr(_ip_key(ip))
        pipe.execute()
    except redis.RedisError:
        log.warning("Redis unavailable for login throttling")


def authenticate(username: str, password: str, ip: str | None, agent: str | None) -> LoginResult:
    """Check a sign-in attempt, update lock-out state and record it; commits."""
    username = username.strip()
    now = utcnow()
    cfg = current_app.config
    if _ip_throttled(ip):
        _record(username, "throttled", None, ip, agent)
        db.session.commit()
        minutes = cfg["LOGIN_IP_WINDOW_MINUTES"]
        return LoginResult(None, f"登录尝试过于频繁，请 {minutes} 分钟后再试。")

    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        verify_password(None, password)  # same cost as a real check
        _note_ip_failure(ip)
        _record(username, "unknown_user", None, ip, agent)
        db.session.commit()
        return LoginResult(None, "用户名或密码错误。")

    if user.is_locked(now):
        _note_ip_failure(ip)
        _record(username, "locked", user, ip, agent)
        db.session.commit()
        return LoginResult(None, _locked_message(user.locked_until))

    if not verify_password(user.password_hash, password):
        _note_ip_failure(ip)
        user.failed_login_count += 1
        remaining = cfg["LOGIN_MAX_FAILURES"] - user.failed_login_count
        if remaining <= 0:
            user.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            user.failed_login_count = 0
            message = _locked_message(user.locked_until)
        else:
            message = f"用户名或密码错误，再错 {remaining} 次账户将被临时锁定。"
        _record(username, "bad_password", user, ip, agent)
        db.session.commit()
        return LoginResult(None, message)

    if not user.active:
        _record(username, "disabled", user, ip, agent)
        db.session.commit()
        return LoginResult(None, "账户已停用，请联系系统管理员。")

    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _record(username, "success", user, ip, agent)
    db.session.commit()
    return LoginResult(user)


def _locked_message(until: datetime | None) -> str:
    when = local_time(until, "%H:%M") if until else ""
    return f"密码错误次数过多，账户已临时锁定，请于 {when} 后再试，或联系系统管理员解锁。"


def record_logout(user: User, ip: str | None, agent: str | None) -> None:
    _record(user.username, "logout", user, ip, agent)
    db.session.commit()


def change_password(user: User, current: str, new: str, ip: str | None, agent: str | None) -> list[str]:
    """Change the user's own password; returns Chinese errors, or [] after committing."""
    errors = []
    if not verify_password(user.password_hash, current):
        errors.append("当前密码不正确")
    if current == new:
        errors.append("新密码不能与当前密码相同")
    errors += password_problems(new, current_app.config["PASSWORD_MIN_LENGTH"], user.username)
    if errors:
        return errors
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.session_version += 1  # signs out the user's other sessions
    _record(user.username, "password_changed", user, ip, agent)
    db.session.commit()
    return []


SIGNED_IN_AT = "signed_in_at"


def start_session(user: User) -> None:
    """Sign the user in for at most HOTLINE_SESSION_HOURS (a shift): the cookie expires then, and
    `session_expired` refuses it even if a browser keeps it longer."""
    from flask import session
    from flask_login import login_user

    login_user(user)
    session.permanent = True
    session[SIGNED_IN_AT] = utcnow().timestamp()


def session_expired() -> bool:
    """A signed-in session older than its lifetime (or from before sign-in times were kept)."""
    from flask import session

    started = session.get(SIGNED_IN_AT)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return not isinstance(started, int | float) or utcnow().timestamp() - started > lifetime


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions die."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user
