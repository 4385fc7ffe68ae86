"""实时监控: the wallboard for the big screen and team leads' desks, and the leads' actions on it."""

from flask import Blueprint

bp = Blueprint("monitor", __name__)

from app.monitor import routes  # noqa: E402,F401
