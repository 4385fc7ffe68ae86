"""Request-wide web behaviour: template helpers, forced password change, error pages."""

from __future__ import annotations

from flask import Flask, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.auth.permissions import can
from app.models.types import utcnow
from app.navigation import grouped_items_for, items_for
from app.roles import ROLE_LABELS
from app.timefmt import local_time

# Reachable while a password change is pending.
_OPEN_WHILE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "static"}


def _filesize(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS

    @app.context_processor
    def inject_navigation():
        if current_user.is_authenticated:
            return {"nav_items": items_for(current_user), "nav_groups": grouped_items_for(current_user),
                    "can": lambda p: can(current_user, p), "now": utcnow()}
        return {"nav_items": [], "nav_groups": {}, "can": lambda p: False, "now": utcnow()}

    @app.before_request
    def force_password_change():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _OPEN_WHILE_PASSWORD_CHANGE
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/error.html", code=403, title="无权访问",
                               message="您的角色没有访问此页面的权限。如需开通，请联系系统管理员。"), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/error.html", code=404, title="页面不存在",
                               message="您访问的页面不存在或已被移除。"), 404

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return render_template("errors/error.html", code=413, title="文件过大",
                               message=f"上传的文件超过 {limit} MB 的上限。"), 413

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/error.html", code=400, title="表单已失效",
                               message="表单校验失败（可能已过期或来自其他网站），请刷新页面后重试。"), 400
