"""Views the switch (CTI integration) calls: bearer-token authenticated JSON, no session, no CSRF."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.calls import bp
from app.integrations import token_required
from telephony_adapter import calls, ivr, kamailio, recordings
from telephony_adapter.events import CallEvent, EventInvalid, parse
from workflows import clock

# The switch and the voice menu's media component: HOTLINE_CTI_TOKEN or a token with the `cti` scope.
switch_token_required = token_required("cti")


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


# --- Kamailio (telephony_adapter/sip/kamailio.cfg): plain-text answers, first line read -------------


def _text(body: str, status: int = 200):
    return body + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def _call_id() -> str | None:
    value = (request.args.get("call_id") or "").strip()
    return value if 0 < len(value) <= 128 else None


@bp.route("/cti/kamailio/route")
@switch_token_required
def kamailio_route():
    call_id = _call_id()
    if call_id is None:
        return _text("reject", 400)
    answer = kamailio.route(call_id, request.args.get("caller", "")[:32], request.args.get("dialled", "")[:32],
                            clock.now(), current_app.config.get("IVR_EXTENSION"))
    return _text(answer)


@bp.route("/cti/kamailio/waiting")
@switch_token_required
def kamailio_waiting():
    call_id, tindex, tlabel = _call_id(), request.args.get("tindex", ""), request.args.get("tlabel", "")
    if call_id is None or not tindex.isdigit() or not tlabel.isdigit():
        return _text("bad request", 400)
    found = kamailio.waiting(call_id, tindex, tlabel, current_app.config.get("KAMAILIO_XHTTP_URL"))
    return _text("ok" if found else "unknown call", 200 if found else 404)


@bp.route("/cti/kamailio/event")
@switch_token_required
def kamailio_event():
    """Dialog events: answered, hangup (normal, caller_cancel, agent_486 …), one of each per call;
    held and resumed (a re-INVITE), as many as there are, each known by its CSeq."""
    leg, kind, seq = _call_id(), request.args.get("kind", ""), request.args.get("seq", "")
    if leg is None or kind not in ("answered", "hangup", "recording_ready", "held", "resumed"):
        return _text("bad request", 400)
    if (kind in ("held", "resumed")) != (seq.isdigit() and len(seq) <= 10):
        return _text("bad request", 400)
    call_id = kamailio.contact_call_id(leg)  # the agent leg of a call the voice menu answered first
    data: dict = {}
    if kind == "hangup":
        data["cause"] = request.args.get("cause", "normal")[:64]
    if kind == "recording_ready":  # rtpengine wrote the call's pcap under the recordings folder
        found = recordings.find(current_app.config.get("RECORDINGS_DIR"), leg)
        if found is None:
            return _text("no recording", 404)
        data["file"] = found
    event_id = f"{call_id}:{kind}:{seq}" if seq else f"{call_id}:{kind}"
    outcome = calls.ingest(CallEvent(kamailio.SOURCE, event_id, kind, call_id, clock.now(), data))
    return _text(outcome.result)


@bp.route("/cti/kamailio/softphone")
@switch_token_required
def kamailio_softphone():
    """A browser softphone's REGISTER: `ok` when its token is the platform's, for that agent."""
    from telephony_adapter import softphone

    user, token = request.args.get("user", "")[:64], request.args.get("token", "")[:512]
    return _text("ok" if user and token and softphone.registration_allowed(user, token) else "no")


@bp.route("/cti/ivr/next", methods=["POST"])
@switch_token_required
def ivr_next():
    """The media component playing the voice menu asks what to do: first without a key (the
    greeting), then after each key. JSON in: call_id, digit (optional), source."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("call_id"), str) or not body["call_id"].strip():
        return jsonify(error="请求体须为 JSON，且含 call_id"), 400
    digit = body.get("digit")
    if digit is not None and (not isinstance(digit, str) or digit not in "0123456789*#" or len(digit) != 1):
        return jsonify(error="digit 须为一个按键（0–9、*、#）"), 400
    source = body.get("source", "switch")
    if not isinstance(source, str) or not 0 < len(source) <= 32:
        return jsonify(error="source 无效"), 400
    return jsonify(ivr.next_step(source, body["call_id"].strip()[:128], digit, clock.now()))


@bp.route("/cti/ivr/audio/<int:node_id>")
@switch_token_required
def ivr_audio(node_id: int):
    """A voice-menu entry's uploaded recording as phone audio (8 kHz, unsigned 8-bit, mono)."""
    from app.extensions import db
    from app.models import IvrNode

    node = db.session.get(IvrNode, node_id)
    if node is None or not node.audio_hash:
        return jsonify(error="没有该录音"), 404
    return node.audio, 200, {"Content-Type": "application/octet-stream", "X-Audio-Format": "u8; rate=8000",
                             "ETag": node.audio_hash}
