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
