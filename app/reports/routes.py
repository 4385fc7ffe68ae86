"""服务指标: every indicator for a month (everyone, a team or one agent), and each one's 明细."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request

from app.auth.permissions import permission_required
from app.extensions import db
from app.models import Team
from app.reports import bp, indicators
from app.timefmt import local_today
from app.workforce import schedule
from workflows import clock


def _period() -> tuple[indicators.Period, dict]:
    now = clock.now()
    try:
        month = date.fromisoformat((request.args.get("month") or "") + "-01")
    except ValueError:
        month = local_today(now).replace(day=1)
    team_id = request.args.get("team", type=int) or None
    agent_id = request.args.get("agent", type=int) or None
    people = schedule.scheduled_people()
    agent_ids = None
    if agent_id is not None:
        agent_ids = [p.id for p in people if p.id == agent_id] or abort(404)
    elif team_id is not None:
        agent_ids = [p.id for p in people if p.team_id == team_id]
    scope = {"month": month.strftime("%Y-%m"), "team": team_id, "agent": agent_id}
    return indicators.Period.of_month(month, now, agent_ids), {
        "scope": scope, "teams": db.session.query(Team).order_by(Team.name).all(), "people": people}


@bp.route("/")
@permission_required("reports.view")
def index():
    period, context = _period()
    return render_template("reports/indicators.html", period=period, figures=indicators.compute_all(period),
                           **context)


@bp.route("/indicators/<code>")
@permission_required("reports.view")
def detail(code: str):
    indicator = indicators.BY_CODE.get(code)
    if indicator is None or not indicator.measured:
        abort(404)
    period, context = _period()
    return render_template("reports/detail.html", period=period, indicator=indicator,
                           figure=indicator.compute(period), detail=indicator.detail(period), **context)
