"""The integration API for other systems (/api/v1): tickets submitted and followed, the monthly
assessment read. Bearer tokens with the `tickets` or `reports` scope (系统管理 → 接口令牌); JSON in
and out; thin views over app/tickets/integration.py and app/reports/assessment.py."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, jsonify, request

from app.api import bp
from app.integrations import token_required
from app.tickets import integration
from workflows import clock


@bp.route("/api/v1/tickets", methods=["POST"])
@token_required("tickets")
def submit_ticket():
    """A citizen's request from another system: 201 with the new ticket, or 200 with the ticket the
    same external_id made before."""
    try:
        ticket, created = integration.submit(g.integration, request.get_json(silent=True), request.remote_addr,
                                             clock.now())
    except integration.SubmissionRefused as exc:
        return jsonify(error=exc.message, fields=exc.errors), 400
    external_id = request.get_json()["external_id"].strip()
    return jsonify(integration.progress(ticket, external_id)), 201 if created else 200


@bp.route("/api/v1/tickets/<number>")
@token_required("tickets")
def ticket_progress(number: str):
    found = integration.mine(g.integration, number[:20])
    if found is None:
        return jsonify(error="没有该工单，或该工单不是本系统提交的"), 404
    return jsonify(integration.progress(*found))


@bp.route("/api/v1/tickets")
@token_required("tickets")
def tickets_changed():
    """This system's tickets changed at or after `changed_since` (ISO 8601 with zone), oldest first;
    ask again from the last one's `updated_at` (a ticket may come twice, never be missed)."""
    try:
        since = datetime.fromisoformat(request.args.get("changed_since", ""))
    except ValueError:
        return jsonify(error="changed_since 须为带时区的 ISO 8601 时间"), 400
    if since.tzinfo is None:
        return jsonify(error="changed_since 须为带时区的 ISO 8601 时间"), 400
    try:
        since = since.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of Greenwich, 9999-12-31 west of it: the ends of time
        since = (datetime.min if since.year == 1 else datetime.max).replace(tzinfo=UTC)
    limit = request.args.get("limit", default=100, type=int)
    if not 1 <= limit <= integration.MAX_CHANGED:
        return jsonify(error=f"limit 须在 1–{integration.MAX_CHANGED} 之间"), 400
    rows = integration.changed(g.integration, since, limit)
    return jsonify(tickets=[integration.progress(ticket, external_id) for ticket, external_id in rows])


@bp.route("/api/v1/reports/assessment")
@token_required("reports")
def assessment():
    """The month's assessment (月度考核): every indicator against its target, with the deductions."""
    from app.reports import assessment as monthly

    now = clock.now()
    try:
        month = monthly.month_of(request.args.get("month", ""), now)
    except monthly.MonthRefused as exc:
        return jsonify(error=exc.message), exc.status
    return jsonify(monthly.as_json(monthly.assess(month, now)))
