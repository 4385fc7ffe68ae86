"""Views: /audit/logins — every sign-in attempt, filterable."""

from __future__ import annotations

from flask import render_template, request

from app.audit import bp
from app.audit.services import login_events_page
from app.auth.permissions import permission_required
from app.models.security import LOGIN_OUTCOMES


@bp.route("/logins")
@permission_required("audit.logins")
def logins():
    username = request.args.get("username", "").strip()
    outcome = request.args.get("outcome", "")
    page = login_events_page(username, outcome, request.args.get("page", 1, type=int))
    return render_template("audit/logins.html", page=page, username=username, outcome=outcome,
                           outcomes=LOGIN_OUTCOMES)


@bp.route("/tickets/<int:ticket_id>")
@permission_required("audit.trail")
def ticket_trace(ticket_id: int):
    from app.audit.services import ticket_trace as trace

    ticket, entries, report = trace(ticket_id)
    return render_template("audit/ticket.html", ticket=ticket, entries=entries, report=report)


@bp.route("/chain")
@permission_required("audit.trail")
def chain():
    from workflows.audit_trail import verify

    return render_template("audit/chain.html", report=verify())
