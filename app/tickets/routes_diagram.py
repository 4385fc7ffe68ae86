"""View: /tickets/<id>/diagram.json — the process diagram and the ticket's place in it, for bpmn-js."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from app.auth.permissions import permission_required
from app.tickets import bp, services
from app.tickets.diagram import diagram_state


@bp.route("/<int:ticket_id>/diagram.json")
@permission_required("tickets.view_all", "tickets.view_department")
def diagram(ticket_id: int):
    ticket = services.visible_ticket(current_user, ticket_id)
    return jsonify(diagram_state(ticket))


diagram.object_scoped = True  # type: ignore[attr-defined]  # a department sees only its own tickets (403)
