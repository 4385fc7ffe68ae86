"""Calls: the switch's event API (token-authenticated), the agent's state bar, the call records."""

from flask import Blueprint

bp = Blueprint("calls", __name__)

from app.calls import routes, routes_switch  # noqa: E402,F401


@bp.app_context_processor
def agent_bar():
    """The agent state bar in the top bar, for those who take calls."""
    from flask_login import current_user

    from app.auth.permissions import can

    if not can(current_user, "calls.work"):
        return {}
    from app.extensions import db
    from app.models import AgentPresence

    row = db.session.get(AgentPresence, current_user.id)
    return bar_context(row)


def bar_context(row) -> dict:
    """What the bar shows: the state, the not-ready reasons and, on a call the media component
    bridges, the colleagues who can be consulted (咨询 / 三方 / 转接)."""
    from flask import current_app
    from flask_login import current_user

    from app.calls.services import talk_targets
    from app.models.contacts import NOT_READY_REASONS

    on_a_bridged_call = (row is not None and row.state in ("talking", "held") and row.contact_id is not None
                         and bool(current_app.config.get("MEDIA_CONTROL_URL")))
    from app.monitor.broadcasts import latest_payload
    from workflows import clock

    return {"agent_presence": row, "not_ready_reasons": NOT_READY_REASONS,
            "talk_targets": talk_targets(current_user) if on_a_bridged_call else [],
            "broadcast": latest_payload(clock.now()),
            "softphone": bool(current_app.config.get("SOFTPHONE_WS_URL"))}
