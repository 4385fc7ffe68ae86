"""The benchmarks' own accounts: found by username, or created once with the given role."""

from __future__ import annotations


def ensure_user(username: str, role: str, password_hash: str, display_name: str | None = None):
    """The user `username` (created with `role` when missing); flushed, so its id is known."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username, password_hash=password_hash,
                    active=True, must_change_password=False, failed_login_count=0, session_version=1)
        user.set_roles([role])
        db.session.add(user)
        db.session.flush()
    return user
