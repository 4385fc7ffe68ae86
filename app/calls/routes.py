"""Views: the agent's state (示闲 / 示忙 / 签出 / 整理完成) and the call records (来电记录)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import permission_required
from app.calls import bp
from app.extensions import db
from app.models import Contact
from app.models.contacts import AGENT_STATES, NOT_READY_REASONS
from telephony_adapter import agents, presence
from workflows import clock


def _presence_json(row) -> dict:
    return {"state": row.state, "label": row.state_label, "reason": row.reason, "since": row.since.isoformat(),
            "acw_until": row.acw_until.isoformat() if row.acw_until else None, "contact_id": row.contact_id}


@bp.route("/calls/presence", methods=["GET", "POST"])
@permission_required("calls.work")
def agent_state():
    """GET: my state now. POST (state, reason): change it; a JSON caller gets JSON back."""
    if request.method == "GET":
        row = presence.presence(current_user.id)
        db.session.commit()
        return jsonify(_presence_json(row))
    state, reason = request.form.get("state", ""), request.form.get("reason") or None
    try:
        change = agents.set_state(current_user.id, state, clock.now(), reason)
    except presence.PresenceRefused as exc:
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=exc.message), 422
        flash(exc.message, "warning")
        return redirect(request.referrer or url_for("main.home"))
    if request.accept_mimetypes.best == "application/json":
        return jsonify({**_presence_json(change.presence),
                        "offered": change.offered.id if change.offered is not None else None})
    flash(f"当前状态：{change.presence.state_label}", "success")
    return redirect(request.referrer or url_for("main.home"))


@bp.route("/calls/")
@permission_required("calls.view")
def records():
    """来电记录: the newest calls, with their waits, talk times and outcome."""
    query = select(Contact).order_by(Contact.started_at.desc(), Contact.id.desc())
    only = request.args.get("filter", "")
    if only == "abandoned":
        query = query.where(Contact.abandoned.is_(True))
    elif only == "waiting":
        query = query.where(Contact.state == "queued")
    rows = db.session.scalars(query.limit(200)).all()
    return render_template("calls/records.html", rows=rows, only=only, states=AGENT_STATES,
                           reasons=NOT_READY_REASONS)
