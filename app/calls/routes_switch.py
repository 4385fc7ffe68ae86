"""Views the switch (CTI integration) calls: bearer-token authenticated JSON, no session, no CSRF."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import current_app, jsonify, request

from app.calls import bp
from app.extensions import csrf
from telephony_adapter import calls
from telephony_adapter.events import EventInvalid, parse


def switch_token_required(view):
    """The switch authenticates with `Authorization: Bearer <HOTLINE_CTI_TOKEN>`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {current_app.config['CTI_TOKEN']}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return jsonify(error="未授权：缺少或错误的接口令牌"), 401
        return view(*args, **kwargs)

    wrapper.switch_facing = True  # type: ignore[attr-defined]
    return csrf.exempt(wrapper)


@bp.route("/cti/events", methods=["POST"])
@switch_token_required
def events():
    """One call event; the answer says whether it was applied, ignored (and why) or a duplicate,
    and which agent the ACD reserved for the call, if any."""
    body = request.get_json(silent=True)
    if body is None:
        return jsonify(error="请求体必须是 JSON"), 400
    try:
        event = parse(body)
    except EventInvalid as exc:
        return jsonify(error=exc.message), 400
    outcome = calls.ingest(event)
    contact = outcome.contact
    return jsonify(result=outcome.result, note=outcome.note,
                   contact=None if contact is None else {"id": contact.id, "state": contact.state,
                                                         "agent_id": contact.agent_id},
                   offered_to=outcome.offered_to)
