"""Views: /login, /logout, /password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.auth.forms import ChangePasswordForm, LoginForm


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, *_client())
        if result.user is not None:
            services.start_session(result.user)
            if result.user.must_change_password:
                flash("首次登录或密码已被重置，请先设置新密码。", "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
        error = result.error
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.record_logout(current_user, *_client())
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    errors: list[str] = []
    if form.validate_on_submit():
        errors = services.change_password(current_user, form.current_password.data, form.new_password.data, *_client())
        if not errors:
            # the session id carries the new version; the sign-in time (and so the expiry) stays
            login_user(current_user._get_current_object())
            flash("密码已修改。", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form, errors=errors)

