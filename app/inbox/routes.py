"""Views: /inbox, and claiming / releasing a task."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin.forms import ConfirmForm
from app.auth.permissions import permission_required
from app.inbox import bp, services
from app.models.tickets import CATEGORIES, CHANNELS
from app.models.types import utcnow

STEPS = {"dispatch": "派单", "department_accept": "签收", "department_handle": "办理", "extension_review": "延期审批",
         "return_review": "审核返单", "reply": "答复", "callback": "回访", "escalation": "提级督办"}


@bp.route("/")
@permission_required("tasks.work")
def index():
    views = services.views_for(current_user)
    view = request.args.get("view") or views[0]
    if view not in views:
        abort(403)  # e.g. an agent asking for a department's inbox
    filters = services.Filters(
        category=request.args.get("category", "") if request.args.get("category") in CATEGORIES else "",
        step=request.args.get("step", "") if request.args.get("step") in STEPS else "",
        channel=request.args.get("channel", "") if request.args.get("channel") in CHANNELS else "",
        overdue=request.args.get("overdue") == "1",
        due_today=request.args.get("due_today") == "1",
    )
    number = request.args.get("page", 1, type=int)
    rows, total = services.page(current_user, view, filters, number)
    now = utcnow()
    return render_template("inbox/index.html", view=view, views=views, labels=services.VIEWS, rows=rows,
                           total=total, page_number=number, pages=max(1, -(-total // 25)), filters=filters,
                           counts=services.counts(current_user, now), now=now, urgency=services.urgency_class,
                           categories=CATEGORIES, channels=CHANNELS, steps=STEPS, confirm=ConfirmForm())


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@permission_required("tasks.work")
def claim(task_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if services.claim(current_user, task_id):
        flash("已认领，任务已进入“我的待办”。", "success")
    else:
        flash("该任务已被他人认领或已完成。", "warning")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@permission_required("tasks.work")
def release(task_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if services.release(current_user, task_id):
        flash("已释放，任务回到待认领队列。", "info")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.route("/tasks/<task_id>/assign", methods=["GET", "POST"])
@permission_required("tickets.supervise")
def assign(task_id: str):
    from app.extensions import db
    from app.models import OpenTask

    task = db.session.get(OpenTask, task_id) or abort(404)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        problem = services.reassign(task_id, request.form.get("user_id", type=int))
        flash(problem or "已改派。", "danger" if problem else "success")
        return redirect(url_for("tickets.show", ticket_id=task.ticket_id))
    return render_template("inbox/assign.html", task=task, candidates=services.candidates(task), confirm=form)
