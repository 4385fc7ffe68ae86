"""Views: / (home page per role), /healthz (liveness) and /readyz (readiness) for load balancers."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user, login_required

from app.main import bp
from app.main.roles_home import role_sections


@bp.route("/")
@login_required
def home():
    return render_template("main/home.html", sections=role_sections(current_user))


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """200 when this process can serve (database at the release's schema, Redis answering), else 503."""
    from app.main import readiness

    ready, report = readiness.check()
    return jsonify(report), 200 if ready else 503
