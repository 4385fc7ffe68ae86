"""Views: synonyms, policy changes and their timeliness, Excel import and export of articles."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.knowledge import bp, services, spreadsheet
from app.knowledge.services import POLICY_STATUS_LABELS, KbRefused
from app.models.knowledge import KbSynonym, PolicyChange
from app.timefmt import display_zone


@bp.route("/synonyms", methods=["GET", "POST"])
@permission_required("kb.review")
def synonyms():
    if request.method == "POST":
        try:
            if request.form.get("delete"):
                services.delete_synonyms(int(request.form["delete"]))
                flash("已删除同义词组。", "success")
            else:
                services.save_synonyms(request.form.get("id", type=int), request.form.get("terms", ""), current_user)
                flash("同义词已保存，检索立即生效。", "success")
        except KbRefused as refused:
            flash(str(refused), "danger")
        return redirect(url_for("knowledge.synonyms"))
    groups = db.session.query(KbSynonym).order_by(KbSynonym.terms).all()
    return render_template("knowledge/synonyms.html", groups=groups)


def _received_at(value: str) -> datetime:
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise KbRefused("收到时间格式不正确") from exc
    return local.replace(tzinfo=display_zone()) if local.tzinfo is None else local


@bp.route("/policy-changes", methods=["GET", "POST"])
@permission_required("kb.review")
def policy_changes():
    form = request.form if request.method == "POST" else request.args
    title, summary = form.get("title", "").strip(), form.get("summary", "").strip()
    if request.method == "POST" and request.form.get("register"):
        try:
            change = services.register_policy_change(
                title, request.form.get("document_ref", ""), summary, _received_at(request.form.get("received_at", "")),
                [int(i) for i in request.form.getlist("article_ids") if i.isdigit()], current_user)
            flash(f"已登记政策变更，受影响文章须在 {change.due_at.astimezone(display_zone()):%m-%d %H:%M} 前更新发布。",
                  "success")
            return redirect(url_for("knowledge.policy_changes"))
        except KbRefused as refused:
            flash(str(refused), "danger")
    suggestions = services.likely_affected(title, summary) if title else []
    changes = db.session.query(PolicyChange).order_by(PolicyChange.received_at.desc()).limit(100).all()
    return render_template("knowledge/policy_changes.html", changes=changes, suggestions=suggestions, form=form,
                           status=services.policy_status, status_labels=POLICY_STATUS_LABELS,
                           now_local=datetime.now(display_zone()).strftime("%Y-%m-%dT%H:%M"))


@bp.route("/export.xlsx")
@permission_required("kb.view")
def export():
    data = spreadsheet.export_articles(include_internal=True)
    return send_file(data, as_attachment=True, download_name="知识库文章.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/import", methods=["GET", "POST"])
@permission_required("kb.edit")
def import_articles():
    result = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择 Excel 文件（.xlsx）", "danger")
        else:
            publish = bool(request.form.get("publish")) and can(current_user, "kb.review")
            try:
                result = spreadsheet.import_articles(upload.read(spreadsheet.MAX_BYTES + 1), current_user, publish)
            except KbRefused as refused:
                flash(str(refused), "danger")
    return render_template("knowledge/import.html", result=result)
