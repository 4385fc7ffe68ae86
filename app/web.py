"""Request-wide web behaviour: template helpers, forced password change, error pages."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from app.auth.permissions import can
from app.models.types import utcnow
from app.navigation import grouped_items_for, items_for
from app.roles import ROLE_LABELS
from app.timefmt import local_time

DATABASE_RETRY_AFTER = 5  # seconds: a database restart or a short network cut is over by then
# Machine callers and the pages' scripts: their errors are JSON, not an HTML page.
JSON_PATHS = ("/cti/", "/api/", "/chat/", "/video/", "/channels/")


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json" or \
        request.path.startswith(JSON_PATHS)

# Reachable while a password change is pending.
_OPEN_WHILE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "static"}


def _filesize(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@lru_cache(maxsize=4)
def content_security_policy(softphone_ws_url: str | None) -> str:
    """Scripts only from the platform's own files (no inline script, no eval); styles may be inline
    (the diagrams and charts set them); media and recordings from the platform or the page's own
    blobs; network calls to the platform and, for the browser softphone, to Kamailio's WebSocket;
    no plugins; framed only by the platform's own pages."""
    connect = ["'self'"]
    if softphone_ws_url:
        parts = urlsplit(softphone_ws_url)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
        "font-src 'self' data:", "media-src 'self' blob:", f"connect-src {' '.join(connect)}", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", "frame-ancestors 'self'"])


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
    def refuse_unstorable_text():
        """NUL and lone surrogates in any field: refused here, before any view stores them."""
        from app.storable import request_is_storable

        if not request_is_storable(request):
            message = "请求含有无效字符（NUL 或不成对的代理项），无法保存，未作任何处理"
            if _wants_json():
                return {"error": message}, 400
            return render_template("errors/error.html", code=400, title="无效字符", message=message), 400
        return None

    @app.before_request
    def end_expired_session():
        from flask import flash, jsonify
        from flask_login import logout_user

        from app.auth.services import session_expired

        if current_user.is_authenticated and session_expired():
            logout_user()
            hours = int(app.permanent_session_lifetime.total_seconds() // 3600)
            message = f"登录已超过 {hours} 小时，为保护参保人信息，请重新登录。"
            if request.accept_mimetypes.best == "application/json" or request.is_json:
                return jsonify(error=message), 401
            flash(message, "warning")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return None

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
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app.config.get("SOFTPHONE_WS_URL")))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # for browsers without frame-ancestors
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
        if _wants_json():
            return {"error": f"请求体超过 {limit} MB 的上限"}, 413
        return render_template("errors/error.html", code=413, title="文件过大",
                               message=f"上传的文件超过 {limit} MB 的上限。"), 413

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        """The database cannot be reached (restarting, a network cut): 503 with Retry-After, never a
        trace. The request's transaction did not commit, so the caller may simply try again — the
        switch's events and the chat channels' messages are idempotent."""
        from app.extensions import db

        try:
            db.session.rollback()
        except OperationalError:
            pass
        app.logger.warning("database unavailable: %s", str(error.orig).strip().splitlines()[0] if error.orig else error)
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if _wants_json():
            return {"error": "数据库暂时不可用，请稍后重试"}, 503, headers
        # Rendered without the context processors: they read the signed-in user from the database.
        page = app.jinja_env.get_template("errors/unavailable.html").render(
            retry_after=DATABASE_RETRY_AFTER, reload=request.method == "GET")
        return page, 503, headers

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if _wants_json():  # a page's script
            return {"error": "请求已失效（缺少或错误的 CSRF 令牌），请刷新页面后重试"}, 400
        return render_template("errors/error.html", code=400, title="表单已失效",
                               message="表单校验失败（可能已过期或来自其他网站），请刷新页面后重试。"), 400
