"""Calls: the switch's event API (token-authenticated), the agent's state bar, the call records."""

from flask import Blueprint

bp = Blueprint("calls", __name__)

from app.calls import routes, routes_switch  # noqa: E402,F401


@bp.app_context_processor
def agent_bar():
    """The agent state bar in the top bar, for those who take calls."""
    from flask_login import current_user

    from app.auth.permissions import can
    from app.models.contacts import NOT_READY_REASONS

    if not can(current_user, "calls.work"):
        return {}
    from app.extensions import db
    from app.models import AgentPresence

    row = db.session.get(AgentPresence, current_user.id)
    return {"agent_presence": row, "not_ready_reasons": NOT_READY_REASONS}
