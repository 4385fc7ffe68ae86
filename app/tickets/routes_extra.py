"""Views: notes and 督办 on a ticket, attachments, search and its Excel export."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin.forms import ConfirmForm
from app.admin.org_services import department_choices
from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models import Attachment, TicketNote
from app.models.tickets import CATEGORIES, STATUSES
from app.tickets import attachments, bp, search, services
from workflows import engine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/<int:ticket_id>/notes", methods=["POST"])
@permission_required("tasks.work")
def add_note(ticket_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ticket = services.visible_ticket(current_user, ticket_id)
    kind = "supervision" if request.form.get("kind") == "supervision" else "note"
    if kind == "supervision" and not can(current_user, "tickets.supervise"):
        abort(403)
    text = request.form.get("text", "").strip()
    if len(text) < 2 or len(text) > 2000:
        flash("备注内容须为 2–2000 字。", "danger")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    role = "team_lead" if kind == "supervision" else next(iter(current_user.roles), None)
    engine.annotate(ticket.id, services.actor(current_user, role, request.remote_addr),
                    "ticket.supervise" if kind == "supervision" else "ticket.note",
                    "督办" if kind == "supervision" else "添加内部备注", {"text": text},
                    lambda locked: db.session.add(TicketNote(ticket_id=locked.id, author_id=current_user.id,
                                                             kind=kind, text=text)))
    flash("督办意见已记录。" if kind == "supervision" else "备注已添加。", "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.route("/<int:ticket_id>/attachments", methods=["POST"])
@permission_required("tasks.work")
def upload(ticket_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ticket = services.visible_ticket(current_user, ticket_id)
    role = next(iter(current_user.roles), None)
    try:
        row = attachments.add(ticket, current_user, request.files.get("file") or _no_file(),
                              services.actor(current_user, role, request.remote_addr))
    except attachments.AttachmentRefused as exc:
        flash(f"附件未上传：{exc}", "danger")
    else:
        flash(f"附件“{row.filename}”已上传。", "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


def _no_file():
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(b""), filename="")


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>")
@permission_required("tickets.view_all", "tickets.view_department")
def download(ticket_id: int, attachment_id: int):
    ticket = services.visible_ticket(current_user, ticket_id)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    return send_file(attachments.path_for(row.sha256), mimetype=row.content_type, as_attachment=True,
                     download_name=row.filename)


@bp.route("/search")
@permission_required("tickets.view_all", "tickets.view_department")
def search_view():
    criteria = search.criteria_from(request.args)
    results = search.page(current_user, criteria, request.args.get("page", 1, type=int))
    return render_template("tickets/search.html", criteria=criteria, results=results, statuses=STATUSES,
                           categories=CATEGORIES, departments=department_choices(active_only=False))


@bp.route("/search.xlsx")
@permission_required("tickets.view_all", "tickets.view_department")
def export():
    content, _rows = search.export(current_user, search.criteria_from(request.args))
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name="工单查询结果.xlsx")


def notes_and_files(ticket_id: int) -> tuple[list[TicketNote], list[Attachment]]:
    notes = db.session.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)).all()
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)).all()
    return list(notes), list(files)


download.object_scoped = True  # type: ignore[attr-defined]
add_note.object_scoped = True  # type: ignore[attr-defined]
upload.object_scoped = True  # type: ignore[attr-defined]
