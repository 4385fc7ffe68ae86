"""Views: /people/access-log — auditors browse and export every look at personal data."""

from __future__ import annotations

import io

from flask import render_template, request, send_file
from flask_login import current_user

from app.auth.permissions import permission_required
from app.models.people import ACCESS_ACTIONS
from app.people import access_log, bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/access-log")
@permission_required("audit.trail")
def access_log_page():
    filters = access_log.filter_from(request.args)
    page, rows = access_log.page(filters, request.args.get("page", 1, type=int))
    return render_template("people/access_log.html", page=page, rows=rows, f=filters, actions=ACCESS_ACTIONS,
                           pager_args=filters.as_args())


@bp.route("/access-log.xlsx")
@permission_required("audit.trail")
def access_log_export():
    filters = access_log.filter_from(request.args)
    data, count = access_log.export(filters, current_user, request.remote_addr)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"个人信息访问记录（{count} 条）.xlsx")
