"""The chat console: the agent's open conversations, one open at a time with its transcript and
the reply box; new messages arrive pushed (the agent bar's event stream) and redraw the parts."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import permission_required
from app.chats import bp, indicators, settings
from app.extensions import db
from app.models import Contact
from telephony_adapter import chats
from workflows import clock


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
    context = {"conversations": conversations, "current": current,
               "first_response": indicators.FIRST_RESPONSE_SECONDS, "close_within": indicators.CLOSE_SECONDS}
    if part in (None, "list"):
        context["waiting"] = chats.waiting(conversations)
    if part in (None, "transcript"):
        context["transcript"] = chats.transcript(current) if current else []
    if part is None:
        context["targets"] = chats.transfer_targets(current_user.id)
        context["canned"] = settings.canned_replies(current.language if current else None)
        from telephony_adapter import video

        context["ice_servers"] = video.ice_servers()
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


@bp.route("/chats/<int:contact_id>/video/signal", methods=["POST"])
@permission_required("calls.work")
def video_signal(contact_id: int):
    """视频服务: the agent's offer (JSON, the page's CSRF header), relayed to the citizen's page."""
    from telephony_adapter import video

    contact = _mine(contact_id)
    try:
        video.to_citizen(contact, current_user.id, (request.get_json(silent=True) or {}).get("description"))
    except video.VideoRefused as exc:
        return jsonify(error=exc.message), exc.status
    return jsonify(ok=True)


video_signal.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/chats/<int:contact_id>/video/recording", methods=["POST"])
@permission_required("calls.work")
def video_recording(contact_id: int):
    """The session's recording from the agent's browser (the form's file `recording`, WebM)."""
    from telephony_adapter import video

    contact = _mine(contact_id)
    upload = request.files.get("recording")
    try:
        video.save_recording(current_user, contact, upload.read() if upload else b"", request.remote_addr)
    except video.VideoRefused as exc:
        db.session.rollback()
        return jsonify(error=exc.message), exc.status
    return jsonify(ok=True)


video_recording.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/chats/records/<int:conversation_id>/recording.webm")
@permission_required("calls.listen")
def video_recording_file(conversation_id: int):
    """A video session's recording, beside its 会话记录; every viewing is audited."""
    from telephony_adapter import video

    contact = db.session.get(Contact, conversation_id)
    if contact is None:
        abort(404)
    try:
        data = video.play_recording(current_user, contact, request.remote_addr)
    except video.VideoRefused:
        abort(404)
    return Response(data, mimetype="video/webm", headers={"Cache-Control": "no-store"})
reply.object_scoped = True  # type: ignore[attr-defined]
transfer.object_scoped = True  # type: ignore[attr-defined]
end.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/chats/records")
@permission_required("calls.view")
def records():
    """会话记录: a day's conversations with their indicators; the figures above sum them up."""
    from datetime import date, timedelta

    from app.timefmt import local_day_bounds, local_today

    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = local_today(clock.now())
    channel = request.args.get("channel", "")
    start, end = local_day_bounds(day)
    query = select(Contact).where(Contact.channel.in_(chats.CHANNELS), Contact.started_at >= start,
                                  Contact.started_at < end)
    if channel in chats.CHANNELS:
        query = query.where(Contact.channel == channel)
    contacts = db.session.scalars(query.order_by(Contact.started_at.desc(), Contact.id.desc())).all()
    rows, summary = indicators.measure(contacts, clock.now())
    late = request.args.get("late") == "1"
    if late:
        rows = [r for r in rows if r.first_response_late or r.close_late]
    return render_template("chats/records.html", rows=rows, summary=summary, day=day, channel=channel, late=late,
                           previous=day - timedelta(days=1), following=day + timedelta(days=1),
                           first_response=indicators.FIRST_RESPONSE_SECONDS, close_within=indicators.CLOSE_SECONDS)


@bp.route("/chats/records/<int:conversation_id>")
@permission_required("calls.view")
def record(conversation_id: int):
    """One conversation's transcript (the reading is audited, like playing a call's recording)."""
    from app.chats.services import read_transcript

    contact = db.session.get(Contact, conversation_id)
    if contact is None or contact.channel not in chats.CHANNELS:
        abort(404)
    transcript = read_transcript(current_user, contact, request.remote_addr)
    [row], _ = indicators.measure([contact], clock.now())
    return render_template("chats/record.html", row=row, contact=contact, transcript=transcript,
                           first_response=indicators.FIRST_RESPONSE_SECONDS, close_within=indicators.CLOSE_SECONDS)


@bp.route("/chats/settings")
@permission_required("calls.configure")
def settings_page():
    return render_template("chats/settings.html", canned=settings.canned_replies(), agents=settings.chat_agents(),
                           limit_range=settings.CHAT_LIMIT_RANGE, max_canned=settings.MAX_CANNED,
                           languages=settings.LANGUAGE_NAMES)


def _confirmed() -> None:
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)


def _setting(change, done) -> Response:
    """Apply one 在线客服设置 change; `done(result)` is what the manager is told when it holds."""
    _confirmed()
    try:
        result = change()
    except settings.SettingRefused as exc:
        flash(exc.message, "warning")
    else:
        flash(done(result), "success")
    return redirect(url_for("chats.settings_page"))


@bp.route("/chats/settings/canned", methods=["POST"])
@bp.route("/chats/settings/canned/<int:reply_id>", methods=["POST"])
@permission_required("calls.configure")
def save_canned(reply_id: int | None = None):
    return _setting(lambda: settings.save_canned(current_user, request.form.get("text", ""), request.remote_addr,
                                                 reply_id, request.form.get("position", type=int),
                                                 language=request.form.get("language") or None),
                    lambda _row: "常用语已保存。")


@bp.route("/chats/settings/canned/<int:reply_id>/delete", methods=["POST"])
@permission_required("calls.configure")
def delete_canned(reply_id: int):
    return _setting(lambda: settings.delete_canned(current_user, reply_id, request.remote_addr),
                    lambda _none: "常用语已删除。")


def _wanted_limits() -> dict[int, int]:
    wanted: dict[int, int] = {}
    for key, value in request.form.items():
        if key.startswith("limit-"):
            agent, number = key.removeprefix("limit-"), value.strip()
            if not agent.isdigit() or not number.lstrip("-").isdigit():
                raise settings.SettingRefused("同时接待数须为整数")
            wanted[int(agent)] = int(number)
    return wanted


@bp.route("/chats/settings/limits", methods=["POST"])
@permission_required("calls.configure")
def save_limits():
    return _setting(lambda: settings.set_chat_limits(current_user, _wanted_limits(), request.remote_addr),
                    lambda changed: f"已更新 {changed} 位坐席的同时接待数。" if changed else "同时接待数没有变化。")
