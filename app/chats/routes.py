"""The chat console: the agent's open conversations, one open at a time with its transcript and
the reply box; new messages arrive pushed (the agent bar's event stream) and redraw the parts."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import permission_required
from app.chats import bp
from app.extensions import db
from app.models import Contact
from telephony_adapter import chats
from workflows import clock

FIRST_RESPONSE_SECONDS = 30  # the indicator: an agent answers a new conversation within 30 s


def _mine(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    if not chats.belongs_to(contact, current_user.id):
        abort(403)  # not a conversation of theirs
    return contact


@bp.route("/chats/")
@permission_required("calls.work")
def console():
    part = request.args.get("part")  # a pushed redraw asks for the list or the transcript alone
    if part not in ("list", "transcript"):
        part = None
        chats.assign_waiting(current_user.id, clock.now())  # room on opening: take what waits
    conversations = db.session.scalars(
        select(Contact).where(Contact.agent_id == current_user.id, Contact.channel.in_(chats.CHANNELS),
                              Contact.state == "talking").order_by(Contact.offered_at, Contact.id)).all()
    chosen = request.args.get("c", type=int)
    current = next((c for c in conversations if c.id == chosen), conversations[0] if conversations else None)
    context = {"conversations": conversations, "current": current, "first_response": FIRST_RESPONSE_SECONDS}
    if part in (None, "list"):
        context["unanswered"] = chats.unanswered(conversations)
    if part in (None, "transcript"):
        context["transcript"] = chats.transcript(current) if current else []
    if part is None:
        context["targets"] = chats.transfer_targets(current_user.id)
        return render_template("chats/console.html", **context)
    return render_template(f"chats/_{part}.html", **context)


console.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/chats/<int:contact_id>/reply", methods=["POST"])
@permission_required("calls.work")
def reply(contact_id: int):
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = _mine(contact_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        row = chats.reply(current_user, contact, request.form.get("text", ""), clock.now())
    except chats.ReplyRefused as exc:
        if wants_json:
            return jsonify(error=exc.message), 422
        flash(exc.message, "warning")
        return redirect(url_for("chats.console", c=contact_id))
    if wants_json:
        return jsonify(id=row.id, state=row.send_state)
    return redirect(url_for("chats.console", c=contact_id))


@bp.route("/chats/<int:contact_id>/end", methods=["POST"])
@permission_required("calls.work")
def end(contact_id: int):
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = _mine(contact_id)
    try:
        chats.end(current_user, contact, clock.now())
    except chats.ReplyRefused as exc:
        flash(exc.message, "warning")
        return redirect(url_for("chats.console", c=contact_id))
    flash("会话已结束。", "success")
    return redirect(url_for("chats.console"))


@bp.route("/chats/<int:contact_id>/transfer", methods=["POST"])
@permission_required("calls.work")
def transfer(contact_id: int):
    """转接: target "user:<id>" (a ready colleague) or "queue:<code>" (back to a chat queue)."""
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = _mine(contact_id)
    kind, _, value = (request.form.get("target") or "").partition(":")
    try:
        given = chats.transfer(current_user, contact, clock.now(),
                               agent_id=int(value) if kind == "user" and value.isdigit() else None,
                               queue_code=value if kind == "queue" else None)
    except chats.ReplyRefused as exc:
        flash(exc.message, "warning")
        return redirect(url_for("chats.console", c=contact_id))
    flash("会话已转接给同事。" if given else "会话已转回队列，等待其他坐席接待。", "success")
    return redirect(url_for("chats.console"))


reply.object_scoped = True  # type: ignore[attr-defined]
transfer.object_scoped = True  # type: ignore[attr-defined]
end.object_scoped = True  # type: ignore[attr-defined]
