"""服务指标: every indicator for a month or any run of days (everyone, a team or one agent), each
one's 明细 and its breakdown by agent, team, queue, channel or department."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models import Team
from app.reports import assessment, bp, indicators
from app.timefmt import local_today
from app.workforce import schedule
from workflows import clock

MAX_DAYS = 366


def _days() -> tuple[date, date] | None:
    """A run of days asked for (起 … 止), or None for a month."""
    try:
        first, last = date.fromisoformat(request.args.get("from") or ""), date.fromisoformat(request.args.get("to") or "")
    except ValueError:
        return None
    if last < first or (last - first).days >= MAX_DAYS:
        return None
    return first, last


def _period(ranged: bool = False) -> tuple[indicators.Period, dict]:
    now = clock.now()
    try:
        month = date.fromisoformat((request.args.get("month") or "") + "-01")
    except ValueError:
        month = local_today(now).replace(day=1)
    days = _days() if ranged else None
    team_id = request.args.get("team", type=int) or None
    agent_id = request.args.get("agent", type=int) or None
    people = schedule.scheduled_people()
    agent_ids = None
    if agent_id is not None:
        agent_ids = [p.id for p in people if p.id == agent_id] or abort(404)
    elif team_id is not None:
        agent_ids = [p.id for p in people if p.team_id == team_id]
    scope = {"month": month.strftime("%Y-%m"), "team": team_id, "agent": agent_id}
    if days is not None:
        period = indicators.Period.of_days(*days, now, agent_ids)
        scope |= {"month": days[0].strftime("%Y-%m"), "from": days[0].isoformat(), "to": days[1].isoformat()}
    else:
        period = indicators.Period.of_month(month, now, agent_ids)
    assessment.apply_marks(period)
    return period, {"scope": scope, "ranged": ranged, "teams": db.session.query(Team).order_by(Team.name).all(),
                    "people": people}


@bp.route("/")
@permission_required("reports.view")
def index():
    period, context = _period(ranged=True)
    return render_template("reports/indicators.html", period=period, evaluations=indicators.compute_all(period),
                           **context)


@bp.route("/indicators/<code>")
@permission_required("reports.view")
def detail(code: str):
    indicator = indicators.BY_CODE.get(code)
    if indicator is None or not indicator.measured:
        abort(404)
    period, context = _period(ranged=True)
    excluded = {m.item: m for month in period.months for m in assessment.marks(month)
                if m.kind == "exclude" and m.indicator == code}
    by = request.args.get("by") if request.args.get("by") in indicator.dimensions else None
    return render_template("reports/detail.html", period=period, indicator=indicator,
                           figure=indicators.evaluate(indicator, period).figure,
                           detail=indicators.detail(indicator, period), excluded=excluded, by=by,
                           groups=indicators.breakdown(indicator, period, by) if by else [],
                           dimensions=indicators.DIMENSIONS,
                           may_assess=can(current_user, "reports.assess") and period.whole_month, **context)


@bp.route("/assessment")
@permission_required("reports.view")
def assessment_page():
    period, context = _period()
    result = assessment.assess(period.month, period.now, period.agent_ids)
    return render_template("reports/assessment.html", result=result, may_assess=can(current_user, "reports.assess"),
                           every=indicators.EVERY, **context)


def _month() -> date:
    try:
        return date.fromisoformat((request.form.get("month") or "") + "-01")
    except ValueError as exc:
        raise assessment.MarkRefused("请选择考核月份") from exc


def _marked(change, done: str):
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        change()
    except assessment.MarkRefused as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash(done, "success")
    back = request.form.get("next") or ""
    return redirect(back if back.startswith("/reports/") else url_for("reports.assessment_page"))


@bp.route("/assessment/exclude", methods=["POST"])
@permission_required("reports.assess")
def exclude():
    return _marked(lambda: assessment.exclude(current_user, _month(), request.form.get("indicator", ""),
                                              request.form.get("item", ""), request.form.get("reason", ""),
                                              request.remote_addr), "已排除，并记入审计。")


@bp.route("/assessment/note", methods=["POST"])
@permission_required("reports.assess")
def note():
    return _marked(lambda: assessment.note(current_user, _month(), request.form.get("indicator", ""),
                                           request.form.get("text", ""), request.remote_addr), "备注已保存。")


@bp.route("/assessment/marks/<int:mark_id>/delete", methods=["POST"])
@permission_required("reports.assess")
def unmark(mark_id: int):
    return _marked(lambda: assessment.remove(current_user, mark_id, request.remote_addr), "已撤销。")


def _day_arg(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return local_today(clock.now())


@bp.route("/operations")
@permission_required("reports.view")
def operations_page():
    from app.reports import operations

    kind = request.args.get("kind") if request.args.get("kind") in operations.KINDS else "day"
    return render_template("reports/operations.html", exports=True,
                           **operations.report(kind, _day_arg(request.args.get("day"))))


@bp.route("/archive")
@permission_required("reports.view")
def archive():
    from app.reports import exports

    files = exports.archive()
    return render_template("reports/archive.html", files=files, kinds=exports.KINDS, today=local_today(clock.now()),
                           daily_at=exports.DAILY_AT_HOUR, pending=any(f.status in ("queued", "running") for f in files))


@bp.route("/archive", methods=["POST"])
@permission_required("reports.view")
def request_export():
    from app.admin.forms import ConfirmForm
    from app.reports import exports

    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        exports.request_file(current_user, request.form.get("kind", ""), _day_arg(request.form.get("day")),
                             request.form.get("format", ""))
    except exports.ExportRefused as exc:
        flash(exc.message, "warning")
    else:
        flash("报表正在后台生成，完成后可在此下载。", "success")
    return redirect(url_for("reports.archive"))


@bp.route("/archive/<int:file_id>")
@permission_required("reports.view")
def download(file_id: int):
    from app.models import ReportFile
    from app.reports import exports

    row = db.session.get(ReportFile, file_id)
    if row is None or row.status != "done":
        abort(404)
    from urllib.parse import quote

    return Response(row.content, mimetype=exports.FORMATS[row.fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(exports.file_name(row))}"})
