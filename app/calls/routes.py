"""Views: the agent's state (示闲 / 示忙 / 签出 / 整理完成) and the call records (来电记录)."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.permissions import permission_required
from app.calls import bp, services
from app.calls import ivr_menu as ivr_settings
from app.calls import queues as queue_settings
from app.calls.forms import QueueForm
from app.extensions import db
from app.models import CallQueue, Contact, IvrNode
from app.models.contacts import AGENT_STATES, IVR_KINDS, NOT_READY_REASONS
from telephony_adapter import agents, presence, push
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
        if request.args.get("fragment"):  # the bar itself, redrawn when a push says the state moved
            from app.calls import bar_context

            return render_template("calls/_agent_bar.html", **bar_context(row))
        return jsonify(_presence_json(row))
    state, reason = request.form.get("state", ""), request.form.get("reason") or None
    try:
        change = agents.set_state(current_user.id, state, clock.now(), reason, address=request.remote_addr)
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


@bp.route("/calls/stream")
@permission_required("calls.work")
def stream():
    """Server-sent events for the signed-in agent: `offer` (screen pop) and `presence`."""
    from app.redis_client import get_redis

    events = push.stream(current_user.id, get_redis())
    # The stream outlives the request's database work: end the session now, so no transaction
    # (and no lock) stays open for the stream's ten minutes.
    db.session.close()
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.route("/calls/softphone")
@permission_required("calls.work")
def softphone_page():
    """浏览器软电话: the window that holds the agent's browser phone (opened from the agent bar and
    kept open while the agent works in the main window, so a call survives page changes)."""
    from telephony_adapter import softphone

    if not softphone.enabled():
        flash("本平台未配置浏览器软电话（HOTLINE_SOFTPHONE_WS_URL），请使用座席话机。", "warning")
        return redirect(url_for("main.home"))
    return render_template("calls/softphone.html", config=softphone.credentials(current_user))


@bp.route("/calls/softphone/quality", methods=["POST"])
@permission_required("calls.work")
def softphone_quality():
    """The softphone's measurement of the call it carries (JSON: call_id = the SIP Call-ID,
    packets_received, packets_lost, jitter_ms, rtt_ms); the answer is the call's quality so far."""
    from telephony_adapter import softphone

    try:
        call_id, sample = softphone.parse_sample(request.get_json(silent=True))
        row = softphone.record_quality(current_user, call_id, sample, clock.now())
    except softphone.SampleInvalid as exc:
        db.session.rollback()
        return jsonify(error=exc.message), 422
    return jsonify(softphone.summary(row))


@bp.route("/calls/contacts/<int:contact_id>/talk", methods=["POST"])
@permission_required("calls.work")
def talk(contact_id: int):
    """咨询 / 三方通话 / 转接 / 取消咨询 on the agent's own call (form: action, target)."""
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = services.visible_contact(current_user, contact_id)
    action = request.form.get("action", "")
    try:
        services.talk_command(current_user, contact, action, request.form.get("target") or None, request.remote_addr)
    except services.TalkRefused as exc:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=exc.message), 409
        flash(exc.message, "warning")
        return redirect(request.referrer or url_for("main.home"))
    message = {"consult": "正在呼叫同事，来电者已保持。", "conference": "已进入三方通话。",
               "transfer": "已转接，来电由同事继续处理。", "cancel": "已取消咨询，恢复与来电者通话。"}[action]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(message=message)
    flash(message, "success")
    return redirect(request.referrer or url_for("main.home"))


@bp.route("/calls/contacts/<int:contact_id>/pop")
@permission_required("calls.work", "calls.view")
def pop(contact_id: int):
    """The screen pop's content for one call (来电弹屏)."""
    contact = services.visible_contact(current_user, contact_id)
    return render_template("calls/_pop.html", pop=services.screen_pop(current_user, contact, request.remote_addr))


@bp.route("/calls/contacts/<int:contact_id>/link", methods=["POST"])
@permission_required("calls.work")
def link(contact_id: int):
    """关联到已有工单: the call is about a ticket the caller already has."""
    from app.admin.forms import ConfirmForm
    from workflows.engine import StepRefused

    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = services.visible_contact(current_user, contact_id)
    try:
        ticket = services.link_to_ticket(current_user, contact, request.form.get("ticket_id", type=int) or 0,
                                         request.remote_addr)
    except StepRefused as exc:
        flash(exc.message, "warning")
        return redirect(request.referrer or url_for("inbox.index"))
    flash(f"来电已关联到工单 {ticket.number}。", "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


link.object_scoped = True  # type: ignore[attr-defined]
talk.object_scoped = True  # type: ignore[attr-defined]
# Only the agent the call went to, or those who read call records, see its pop (403 otherwise).
pop.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/calls/")
@permission_required("calls.view")
def records():
    """来电记录: the newest calls, with their waits, talk times and outcome."""
    query = select(Contact).where(Contact.channel == "phone").order_by(Contact.started_at.desc(), Contact.id.desc())
    only = request.args.get("filter", "")
    if only == "abandoned":
        query = query.where(Contact.abandoned.is_(True))
    elif only == "waiting":
        query = query.where(Contact.state == "queued")
    rows = db.session.scalars(query.options(selectinload(Contact.quality)).limit(200)).all()
    from telephony_adapter.softphone import summary

    return render_template("calls/records.html", rows=rows, only=only, states=AGENT_STATES,
                           reasons=NOT_READY_REASONS, quality={c.id: summary(c.quality) for c in rows if c.quality})


@bp.route("/calls/queues")
@permission_required("calls.configure")
def queues():
    rows = db.session.scalars(select(CallQueue).order_by(CallQueue.ivr_digit, CallQueue.code)).all()
    waiting = dict(db.session.execute(select(Contact.queue_id, func.count(Contact.id))
                                      .where(Contact.state == "queued").group_by(Contact.queue_id)).all())
    return render_template("calls/queues.html", queues=rows, waiting=waiting)


@bp.route("/calls/queues/new", methods=["GET", "POST"])
@bp.route("/calls/queues/<int:queue_id>", methods=["GET", "POST"])
@permission_required("calls.configure")
def edit_queue(queue_id: int | None = None):
    queue = db.session.get(CallQueue, queue_id) if queue_id else None
    if queue_id and queue is None:
        abort(404)
    form = QueueForm(obj=queue) if request.method == "GET" and queue else QueueForm()
    form.skill_id.choices = queue_settings.skill_choices()
    form.overflow_skill_id.choices = queue_settings.skill_choices(with_none=True)
    if request.method == "GET" and queue and queue.overflow_skill_id is None:
        form.overflow_skill_id.data = 0
    errors: list[str] = []
    if form.validate_on_submit():
        saved, errors = queue_settings.save_queue(form, queue)
        if saved:
            flash(f"队列“{saved.name}”已保存。", "success")
            return redirect(url_for("calls.queues"))
    elif request.method == "POST":
        errors = [message for messages in form.errors.values() for message in messages]
    return render_template("calls/queue_form.html", form=form, queue=queue, errors=errors), (422 if errors else 200)


@bp.route("/calls/contacts/<int:contact_id>/recording.wav")
@permission_required("calls.listen")
def recording(contact_id: int):
    """A call's recording as WAV. Every play is written to the audit trail."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or not contact.recording:
        abort(404)
    audio = services.play_recording(current_user, contact, request.remote_addr)
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "no-store"})


@bp.route("/calls/ivr", methods=["GET", "POST"])
@bp.route("/calls/ivr/<int:node_id>", methods=["GET", "POST"])
@permission_required("calls.configure")
def ivr_menu(node_id: int | None = None):
    """语音导航: the menu as a tree; add an entry under a menu, or change one."""
    from app.admin.forms import ConfirmForm

    node = db.session.get(IvrNode, node_id) if node_id else None
    if node_id and node is None:
        abort(404)
    errors: list[str] = []
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        saved, errors = ivr_settings.save(request.form, node, request.files.get("audio"))
        if saved:
            flash(f"语音导航“{saved.label}”已保存。", "success")
            return redirect(url_for("calls.ivr_menu"))
    queue_rows = db.session.scalars(select(CallQueue).where(CallQueue.active.is_(True)).order_by(CallQueue.code)).all()
    return render_template("calls/ivr.html", entries=ivr_settings.tree(), editing=node, errors=errors,
                           form=request.form if errors else {}, kinds=IVR_KINDS, queues=queue_rows,
                           confirm=ConfirmForm()), (422 if errors else 200)


@bp.route("/calls/ivr/<int:node_id>/delete", methods=["POST"])
@permission_required("calls.configure")
def ivr_delete(node_id: int):
    from app.admin.forms import ConfirmForm

    node = db.session.get(IvrNode, node_id)
    if node is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if node.parent_id is None:
        flash("欢迎菜单不能删除，可以修改其播报内容。", "warning")
        return redirect(url_for("calls.ivr_menu"))
    label = node.label
    ivr_settings.remove(node)
    flash(f"已删除“{label}”及其下级按键。", "info")
    return redirect(url_for("calls.ivr_menu"))
