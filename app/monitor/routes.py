"""The wallboard: the page, its snapshot (JSON, shared by all boards for a moment), its live feed
(server-sent events of every agent state change and a hint when contacts moved), and the team
lead's actions (JSON in, JSON out: the board stays open)."""

from __future__ import annotations

from flask import Response, abort, jsonify, render_template, request
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models.contacts import NOT_READY_REASONS
from app.monitor import actions, bp, broadcasts, services
from workflows import clock


@bp.route("/")
@permission_required("monitor.view")
def board():
    return render_template("monitor/board.html", may_act=can(current_user, "monitor.act"),
                           reasons=NOT_READY_REASONS, skills=actions.queue_skills(),
                           max_broadcast=broadcasts.MAX_TEXT)


@bp.route("/board.json")
@permission_required("monitor.view")
def board_json():
    body = services.shared_snapshot(clock.now())
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.route("/stream")
@permission_required("monitor.view")
def stream():
    from app.redis_client import get_redis
    from telephony_adapter import board, push

    events = push.stream_channel(board.CHANNEL, get_redis())
    db.session.close()  # the stream holds no database connection while it waits
    return Response(events, mimetype="text/event-stream", headers={"Cache-Control": "no-cache",
                                                                   "X-Accel-Buffering": "no"})


def _checked() -> None:
    """The actions come from the board's script with the page's CSRF token (Flask-WTF checks it)."""
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)


def _refused(exc) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error=exc.message), 422


@bp.route("/agents/<int:agent_id>/state", methods=["POST"])
@permission_required("monitor.act")
def force_state(agent_id: int):
    _checked()
    try:
        actions.force_state(current_user, agent_id, request.form.get("state", ""), request.form.get("reason"),
                            clock.now(), request.remote_addr)
    except actions.ActionRefused as exc:
        return _refused(exc)
    return jsonify(message="已更改坐席状态")


@bp.route("/agents/<int:agent_id>/queues", methods=["POST"])
@permission_required("monitor.act")
def set_queues(agent_id: int):
    _checked()
    chosen = request.form.getlist("skill")
    if not all(value.isdigit() for value in chosen):
        return jsonify(error="技能选择无效"), 422
    try:
        codes = actions.set_queue_skills(current_user, agent_id, {int(v) for v in chosen}, request.remote_addr)
    except actions.ActionRefused as exc:
        return _refused(exc)
    return jsonify(message="已调整服务队列", queues=codes)


@bp.route("/pull", methods=["POST"])
@permission_required("monitor.act")
def pull():
    _checked()
    pulled = actions.pull_agents(current_user, clock.now(), request.remote_addr)
    return jsonify(message=f"已将 {len(pulled)} 位示忙坐席转为示闲" if pulled else "没有示忙的坐席", agents=pulled)


@bp.route("/broadcast", methods=["POST"])
@permission_required("monitor.act")
def broadcast():
    _checked()
    try:
        _row, reached = broadcasts.send(current_user, request.form.get("text", ""), clock.now(), request.remote_addr)
    except broadcasts.BroadcastRefused as exc:
        return _refused(exc)
    return jsonify(message=f"广播已发送给 {reached} 位在线坐席")
