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


RECORD_TABS = {"test_calls": "业务拨测", "exams": "培训考核", "complaints": "坐席投诉", "reviews": "工单记录抽查"}


def _month_arg(value: str | None) -> date:
    try:
        return date.fromisoformat((value or "") + "-01")
    except ValueError:
        return local_today(clock.now()).replace(day=1)


@bp.route("/records")
@permission_required("qa.sample", "reports.view")
def records():
    """考核记录: 拨测, 培训考核, 投诉 and 工单记录抽查 for a month, and the forms to add them."""
    from app.models.quality import ExamResult, TestQuestion
    from app.quality.records import COMPLAINT_SOURCES
    from app.reports.indicators import BY_CODE, Period
    from app.workforce.schedule import scheduled_people

    tab = request.args.get("tab") if request.args.get("tab") in RECORD_TABS else "test_calls"
    month = _month_arg(request.args.get("month"))
    period = Period.of_month(month, clock.now())
    indicator = {"test_calls": "test_call_accuracy", "exams": "training_pass_rate", "complaints": "complaints",
                 "reviews": "record_accuracy"}[tab]
    rows = BY_CODE[indicator].items(period)  # the same records the indicator counts
    flagged = []
    if tab == "exams":
        latest: dict[tuple[int, str], ExamResult] = {}
        for exam in db.session.scalars(select(ExamResult).order_by(ExamResult.attempt)):
            latest[(exam.user_id, exam.training)] = exam
        flagged = [(e.user.display_name, "须更换坐席" if e.attempt == 3 else "须补考")
                   for e in latest.values() if not e.passed]

    def rate(items, attribute="correct"):
        if not items:
            return "—"
        good = sum(1 for item in items if (not item.faulty if attribute == "accurate" else getattr(item, attribute)))
        return f"{good / len(items) * 100:.1f}%"

    return render_template("quality/records.html", tab=tab, tabs=RECORD_TABS, month=month, rows=rows, rate=rate,
                           questions=db.session.scalars(select(TestQuestion).where(TestQuestion.active.is_(True))
                                                        .order_by(TestQuestion.id)).all(),
                           people=scheduled_people(), sources=COMPLAINT_SOURCES, flagged=flagged,
                           may_record=can(current_user, "qa.sample") or can(current_user, "reports.assess"))


@bp.route("/records/<kind>", methods=["POST"])
@permission_required("qa.sample", "reports.assess")
def add_record(kind: str):
    from datetime import datetime

    from app.admin.forms import ConfirmForm
    from app.quality import records as kept
    from app.timefmt import display_zone

    if not ConfirmForm().validate_on_submit():
        abort(400)
    form = request.form

    def day(name: str) -> date:
        try:
            return date.fromisoformat(form.get(name, ""))
        except ValueError as exc:
            raise kept.RecordRefused("请填写日期") from exc

    def moment(name: str) -> datetime:
        try:
            return datetime.fromisoformat(form.get(name, "")).replace(tzinfo=display_zone())
        except ValueError as exc:
            raise kept.RecordRefused("请填写拨测时间") from exc

    who, ip = current_user, request.remote_addr
    actions = {
        "question": lambda: kept.add_question(who, form.get("question", ""), form.get("expected", ""), ip),
        "test_call": lambda: kept.record_test_call(who, form.get("question_id", type=int), moment("called_at"),
                                                   form.get("agent_id", type=int), form.get("correct") == "1",
                                                   form.get("note", ""), ip),
        "exam": lambda: kept.record_exam(who, form.get("person_id", type=int), form.get("training", ""),
                                         day("taken_on"), form.get("attempt", type=int) or 0,
                                         form.get("score", type=int) if form.get("score", "").isdigit() else -1, ip),
        "complaint": lambda: kept.record_complaint(who, form.get("agent_id", type=int), day("received_on"),
                                                   form.get("source", ""), form.get("attitude") == "1",
                                                   {"1": True, "0": False}.get(form.get("upheld", "")),
                                                   form.get("summary", ""), form.get("ticket_number"), ip),
        "review": lambda: kept.record_review(who, form.get("ticket_number", ""), day("reviewed_on"),
                                             form.get("faulty") == "1", form.get("bad_outcome") == "1",
                                             form.get("note", ""), ip),
    }
    if kind not in actions:
        abort(404)
    try:
        actions[kind]()
    except kept.RecordRefused as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash("已登记，并记入审计。", "success")
    return redirect(url_for("quality.records", tab=form.get("tab") or None, month=form.get("month") or None))
