"""排班 (the week grid, a shift's form, the .xlsx import) and 考勤 (a month's adherence and
utilisation per agent and team, and one agent's shifts day by day)."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models import Team, User
from app.timefmt import local_today
from app.workforce import attendance, bp, schedule
from workflows import clock


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return local_today(clock.now())


def _team() -> int | None:
    return request.args.get("team", type=int) or None


@bp.route("/schedule")
@permission_required("monitor.view", "schedule.edit")
def week():
    day = _day(request.args.get("week"))
    grid = schedule.week_grid(day, _team())
    from datetime import timedelta

    return render_template("workforce/week.html", grid=grid, team=_team(), teams=db.session.query(Team).all(),
                           previous=grid.days[0] - timedelta(days=7), following=grid.days[0] + timedelta(days=7),
                           may_edit=can(current_user, "schedule.edit"), month_hours=attendance.MONTH_HOURS,
                           quarter_hours=attendance.QUARTER_HOURS)


def _back(day: date | None = None) -> Response:
    return redirect(url_for("workforce.week", week=(day or _day(request.form.get("week"))).isoformat(),
                            team=request.form.get("team") or None))


def _confirmed() -> None:
    from app.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/shifts", methods=["POST"])
@bp.route("/shifts/<int:shift_id>", methods=["POST"])
@permission_required("schedule.edit")
def save_shift(shift_id: int | None = None):
    _confirmed()
    day = _day(request.form.get("day"))
    start, end = schedule.parse_time(request.form.get("start", "")), schedule.parse_time(request.form.get("end", ""))
    agent_id = request.form.get("agent_id", type=int)
    if start is None or end is None or agent_id is None:
        flash("请填写坐席、上班与下班时间（如 08:30）", "warning")
        return _back(day)
    try:
        schedule.save(current_user, agent_id, day, start, end, request.form.get("label", ""), request.remote_addr,
                      shift_id)
    except schedule.ShiftRefused as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash("班次已保存。", "success")
    return _back(day)


@bp.route("/shifts/<int:shift_id>/delete", methods=["POST"])
@permission_required("schedule.edit")
def delete_shift(shift_id: int):
    _confirmed()
    try:
        schedule.delete(current_user, shift_id, request.remote_addr)
    except schedule.ShiftRefused as exc:
        flash(exc.message, "warning")
    else:
        flash("班次已删除。", "success")
    return _back()


@bp.route("/schedule/import", methods=["GET", "POST"])
@permission_required("schedule.edit")
def import_shifts():
    outcome = None
    if request.method == "POST":
        _confirmed()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择排班表文件（.xlsx）", "warning")
        else:
            outcome = schedule.import_sheet(current_user, upload.stream, request.remote_addr)
            if outcome.ok:
                flash(f"已导入 {outcome.created} 个班次（{outcome.unchanged} 个已在排班中，未改动）。", "success")
                return redirect(url_for("workforce.week"))
    return render_template("workforce/import.html", outcome=outcome)


@bp.route("/schedule/template.xlsx")
@permission_required("schedule.edit")
def import_template():
    return Response(schedule.template(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=shift-template.xlsx"})


@bp.route("/attendance")
@permission_required("monitor.view")
def month():
    """考勤: each agent's scheduled hours, adherence and utilisation for a month, by team; with
    ?agent=, one agent's shifts day by day."""
    month_day = _day((request.args.get("month") or "") + "-01").replace(day=1)
    now = clock.now()
    people = [p for p in schedule.scheduled_people() if _team() is None or p.team_id == _team()]
    agent_id = request.args.get("agent", type=int)
    if agent_id is not None:
        people = [p for p in people if p.id == agent_id] or abort(404)
    ids = [p.id for p in people]
    figures = attendance.by_agent(month_day, now, ids)
    teams: dict[int | None, attendance.Attendance] = {}
    for person in people:
        mine = figures.get(person.id)
        if mine is not None:
            total = teams.setdefault(person.team_id, attendance.Attendance())
            for result in mine.days:
                total.add(result)
    return render_template("workforce/attendance.html", month=month_day, people=people, figures=figures,
                           quarter=attendance.quarter_hours(month_day, ids), teams=teams,
                           team_names={t.id: t.name for t in db.session.query(Team).all()}, team=_team(),
                           agent=db.session.get(User, agent_id) if agent_id else None,
                           month_hours=attendance.MONTH_HOURS, quarter_hours=attendance.QUARTER_HOURS)
