"""Integration tokens: each system that calls the platform's machine-facing API (a switch, the
voice menu's media component, a site's own system) gets its own bearer token, so one can be revoked
without touching the others and the platform knows which one called. HOTLINE_CTI_TOKEN stays valid
as the installation's first token (the switch set up with the platform)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from app.extensions import csrf, db
from app.models import IntegrationToken, User
from app.models.security import INTEGRATION_SCOPES
from app.refusals import Refused
from workflows import clock
from workflows.audit_trail import Actor, append

ISSUED_MARK = "hlt_"  # every issued token starts so: a leaked one is easy to recognise in a scan
USE_RECORDED_EVERY = timedelta(minutes=1)  # last_used_at: not a write on every event


class TokenRefused(Refused):
    """An integration token that cannot be issued as asked."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(name: str, scopes: list[str], user: User, ip: str | None, now: datetime) -> tuple[IntegrationToken, str]:
    """A new token (returned in clear this once) for the integration `name`; audited."""
    name = name.strip()
    if not 0 < len(name) <= 64:
        raise TokenRefused("请填写接入系统的名称（64 字以内）")
    if not scopes or any(scope not in INTEGRATION_SCOPES for scope in scopes):
        raise TokenRefused("请选择令牌可调用的接口")
    token = ISSUED_MARK + secrets.token_urlsafe(32)
    row = IntegrationToken(name=name, prefix=token[:12], token_hash=_digest(token), scopes=",".join(sorted(scopes)),
                           created_by_id=user.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    append(Actor.of(user, ip), "integration.issue", summary=f"签发接口令牌：{name}",
           data={"token_id": row.id, "prefix": row.prefix, "scopes": row.scope_list}, at=now)
    db.session.commit()
    return row, token


def revoke(row: IntegrationToken, user: User, ip: str | None, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        append(Actor.of(user, ip), "integration.revoke", summary=f"吊销接口令牌：{row.name}",
               data={"token_id": row.id, "prefix": row.prefix}, at=now)
        db.session.commit()


def authenticate(header: str, scope: str, now: datetime) -> str | None:
    """The caller's name when `Authorization: Bearer <token>` is the installation's CTI token or an
    active integration token with `scope`; None otherwise."""
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not given:
        return None
    installation = current_app.config.get("CTI_TOKEN") or ""
    if scope == "cti" and installation and hmac.compare_digest(given.encode(), installation.encode()):
        return "HOTLINE_CTI_TOKEN"
    if not given.startswith(ISSUED_MARK):
        return None
    row = db.session.scalar(select(IntegrationToken).where(IntegrationToken.token_hash == _digest(given)))
    if row is None or row.revoked_at is not None or scope not in row.scope_list:
        return None
    if row.last_used_at is None or now - row.last_used_at > USE_RECORDED_EVERY:
        row.last_used_at = now
        db.session.commit()
    return row.name


def token_required(scope: str):
    """A view an integration calls with `Authorization: Bearer <token>` holding `scope` (no session,
    no CSRF). The caller's name is in `g.integration`. The view is marked `token_scope`, so the
    permission matrix and the OpenAPI test know it."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            name = authenticate(request.headers.get("Authorization", ""), scope, clock.now())
            if name is None:
                return jsonify(error="未授权：缺少、错误或已吊销的接口令牌"), 401
            g.integration = name
            return view(*args, **kwargs)

        wrapper.token_scope = scope  # type: ignore[attr-defined]
        return csrf.exempt(wrapper)

    return decorate
