"""Views: /people/imports — upload a file, its preview (or progress), commit, error report, template."""

from __future__ import annotations

import io

from flask import abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import permission_required
from app.extensions import db
from app.models import PersonImport
from app.people import bp, imports, template
from app.people.forms import CommitForm, ImportForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import(import_id: int) -> PersonImport:
    return db.session.get(PersonImport, import_id) or abort(404)


@bp.route("/imports", methods=["GET", "POST"])
@permission_required("people.import")
def imports_page():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imp = imports.start(current_user, upload.filename or "", upload.read(), form.mode.data)
        except imports.ImportRefused as exc:
            flash(str(exc), "danger")
        else:
            return redirect(url_for("people.import_detail", import_id=imp.id))
    recent = db.session.scalars(select(PersonImport).order_by(PersonImport.id.desc()).limit(20)).all()
    return render_template("people/imports.html", form=form, recent=recent,
                           async_rows=imports.ASYNC_ROWS), 422 if form.is_submitted() else 200


@bp.route("/imports/<int:import_id>")
@permission_required("people.import")
def import_detail(import_id: int):
    imp = _import(import_id)
    form = CommitForm(mode=imp.mode)
    return render_template("people/import_detail.html", imp=imp, preview=imports.preview_of(imp), form=form,
                           committable=imports.committable(imp), earlier=imports.earlier_imports_of(imp),
                           has_report=imports.report_file(imp) is not None)


@bp.route("/imports/<int:import_id>/status.json")
@permission_required("people.import")
def import_status(import_id: int):
    """Polled by the import page while a job runs."""
    imp = _import(import_id)
    return jsonify(id=imp.id, status=imp.status, status_label=imp.status_label, progress=imp.progress,
                   running=imp.running, total_rows=imp.total_rows, valid_rows=imp.valid_rows,
                   invalid_rows=imp.invalid_rows, created_rows=imp.created_rows, updated_rows=imp.updated_rows,
                   written_rows=imp.written_rows, message=imp.message or "",
                   report_url=url_for("people.import_report", import_id=imp.id) if imp.report_path else None)


@bp.route("/imports/<int:import_id>/commit", methods=["POST"])
@permission_required("people.import")
def import_commit(import_id: int):
    imp = _import(import_id)
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = imports.commit(current_user, imp, form.mode.data or imp.mode)
    except imports.ImportRefused as exc:
        flash(str(exc), "danger")
    else:
        flash(message, "success" if imp.status in ("done", "committing") else "danger")
    return redirect(url_for("people.import_detail", import_id=imp.id))


@bp.route("/imports/<int:import_id>/discard", methods=["POST"])
@permission_required("people.import")
def import_discard(import_id: int):
    imp = _import(import_id)
    if not CommitForm().validate_on_submit():
        abort(400)
    try:
        imports.discard(imp)
    except imports.ImportRefused as exc:
        flash(str(exc), "danger")
    else:
        flash("已放弃该批次，未写入任何数据。", "success")
    return redirect(url_for("people.import_detail", import_id=imp.id))


@bp.route("/imports/<int:import_id>/errors.xlsx")
@permission_required("people.import")
def import_report(import_id: int):
    imp = _import(import_id)
    path = imports.report_file(imp)
    if path is None:
        flash("该批次没有错误清单。", "info")
        return redirect(url_for("people.import_detail", import_id=imp.id))
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=f"导入错误清单-批次{imp.id}.xlsx")


@bp.route("/imports/template.xlsx")
@permission_required("people.import")
def import_template():
    return send_file(io.BytesIO(template.workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="参保人导入模板.xlsx")
