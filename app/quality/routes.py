"""质检 pages: the samples (QA scores them, the team lead decides appeals), an agent's own results
with the appeal, and the example cases everyone may learn from."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models.quality import QA_ERRORS, QA_KINDS, QA_STATES, QaSample
from app.quality import bp, services
from app.timefmt import local_today
from workflows import clock


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return default


@bp.route("/")
@permission_required("qa.sample", "tickets.supervise")
def index():
    yesterday = local_today(clock.now()) - timedelta(days=1)
    day = _day(request.args.get("day"), yesterday)
    status = request.args.get("status", "")
    query = select(QaSample).where(QaSample.day == day)
    if status in QA_STATES:
        query = query.where(QaSample.status == status)
    samples = db.session.scalars(query.order_by(QaSample.agent_id, QaSample.kind, QaSample.id)).all()
    correct, scored = services.accuracy(samples)
    return render_template("quality/index.html", samples=samples, day=day, status=status, states=QA_STATES,
                           kinds=QA_KINDS, errors=QA_ERRORS, correct=correct, scored=scored,
                           may_sample=can(current_user, "qa.sample"))


@bp.route("/sample", methods=["POST"])
@permission_required("qa.sample")
def draw():
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    day = _day(request.form.get("day"), local_today(clock.now()) - timedelta(days=1))
    drawn = services.sample_day(day)
    flash(f"已抽取 {drawn} 个样本。" if drawn else "该日已抽样或没有可抽取的记录。", "success")
    return redirect(url_for("quality.index", day=day.isoformat()))


def _sample(sample_id: int) -> QaSample:
    sample = db.session.get(QaSample, sample_id)
    if sample is None:
        abort(404)
    if not (can(current_user, "qa.sample") or can(current_user, "tickets.supervise")
            or sample.agent_id == current_user.id):
        abort(403)
    return sample


@bp.route("/samples/<int:sample_id>")
@permission_required("qa.sample", "tickets.supervise", "calls.work")
def show(sample_id: int):
    sample = _sample(sample_id)
    transcript = []
    if sample.kind == "chat" and sample.contact is not None:
        from app.chats.services import read_transcript

        transcript = read_transcript(current_user, sample.contact, request.remote_addr)  # the look is audited
    return render_template("quality/sample.html", sample=sample, transcript=transcript, errors=QA_ERRORS,
                           kinds=QA_KINDS, states=QA_STATES, may_score=can(current_user, "qa.sample"),
                           may_decide=can(current_user, "tickets.supervise"),
                           may_appeal=sample.agent_id == current_user.id)


show.object_scoped = True  # type: ignore[attr-defined]


def _step(sample_id: int, change, done: str):
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    sample = _sample(sample_id)
    try:
        change(sample)
    except services.QaRefused as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash(done, "success")
    return redirect(url_for("quality.show", sample_id=sample_id))


@bp.route("/samples/<int:sample_id>/score", methods=["POST"])
@permission_required("qa.sample")
def score(sample_id: int):
    return _step(sample_id, lambda s: services.score(current_user, s, request.form.getlist("errors"),
                                                     request.form.get("comment", ""), clock.now(),
                                                     request.remote_addr), "质检结果已保存。")


@bp.route("/samples/<int:sample_id>/appeal", methods=["POST"])
@permission_required("calls.work")
def appeal(sample_id: int):
    return _step(sample_id, lambda s: services.appeal(current_user, s, request.form.get("appeal", ""), clock.now(),
                                                      request.remote_addr), "申诉已提交，等待班长裁定。")


@bp.route("/samples/<int:sample_id>/decide", methods=["POST"])
@permission_required("tickets.supervise")
def decide(sample_id: int):
    return _step(sample_id, lambda s: services.decide(current_user, s, request.form.get("decision") == "upheld",
                                                      request.form.get("note", ""), clock.now(),
                                                      request.remote_addr), "申诉已裁定。")


@bp.route("/samples/<int:sample_id>/example", methods=["POST"])
@permission_required("qa.sample")
def example(sample_id: int):
    return _step(sample_id, lambda s: services.share_example(current_user, s, request.form.get("example") == "1",
                                                             request.remote_addr), "案例分享已更新。")


appeal.object_scoped = True  # type: ignore[attr-defined]


@bp.route("/mine")
@permission_required("calls.work")
def mine():
    samples = db.session.scalars(select(QaSample).where(QaSample.agent_id == current_user.id,
                                                        QaSample.status != "pending")
                                 .order_by(QaSample.day.desc(), QaSample.id.desc()).limit(200)).all()
    correct, scored = services.accuracy(samples)
    return render_template("quality/mine.html", samples=samples, kinds=QA_KINDS, states=QA_STATES, errors=QA_ERRORS,
                           correct=correct, scored=scored)


@bp.route("/cases")
@permission_required("kb.view")
def cases():
    samples = db.session.scalars(select(QaSample).where(QaSample.example.is_(True))
                                 .order_by(QaSample.day.desc(), QaSample.id.desc()).limit(200)).all()
    return render_template("quality/cases.html", samples=samples, kinds=QA_KINDS, errors=QA_ERRORS)
