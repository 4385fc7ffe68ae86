"""Views: /admin/status — is the database, Redis and the background worker alive?"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from app.admin import bp, system_status
from app.admin.forms import ConfirmForm
from app.auth.permissions import permission_required


@bp.route("/status")
@permission_required("admin.system")
def status():
    return render_template("admin/status.html", report=system_status.collect(), confirm=ConfirmForm())


@bp.route("/status/heartbeat", methods=["POST"])
@permission_required("admin.system")
def send_heartbeat():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    job_id = system_status.enqueue_heartbeat()
    flash(f"已提交测试任务 {job_id}，后台任务进程处理后刷新本页可见心跳时间。", "info")
    return redirect(url_for("admin.status"))


@bp.route("/integrations", methods=["GET", "POST"])
@permission_required("admin.system")
def integrations():
    """接口令牌: one bearer token per integration; a new token is shown once, here."""
    from flask import request
    from flask_login import current_user
    from sqlalchemy import select

    from app import integrations as service
    from app.extensions import db
    from app.models import IntegrationToken
    from app.models.security import INTEGRATION_SCOPES
    from workflows import clock

    issued = None
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            row, issued = service.issue(request.form.get("name", ""), request.form.getlist("scopes"), current_user,
                                        request.remote_addr, clock.now())
        except service.TokenRefused as exc:
            flash(exc.message, "warning")
        else:
            flash(f"已签发“{row.name}”的接口令牌。请立即复制并配置到该系统：离开本页后无法再次查看。", "success")
    rows = db.session.scalars(select(IntegrationToken).order_by(IntegrationToken.revoked_at.is_not(None),
                                                                IntegrationToken.created_at.desc())).all()
    return render_template("admin/integrations.html", rows=rows, issued=issued, scopes=INTEGRATION_SCOPES,
                           confirm=ConfirmForm())


@bp.route("/integrations/<int:token_id>/revoke", methods=["POST"])
@permission_required("admin.system")
def revoke_integration(token_id: int):
    from flask import request
    from flask_login import current_user

    from app import integrations as service
    from app.extensions import db
    from app.models import IntegrationToken
    from workflows import clock

    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = db.session.get(IntegrationToken, token_id) or abort(404)
    service.revoke(row, current_user, request.remote_addr, clock.now())
    flash(f"已吊销“{row.name}”的接口令牌，使用它的调用将被拒绝。", "success")
    return redirect(url_for("admin.integrations"))
