"""排班与考勤: the week's shifts (grid and .xlsx import), sign-in adherence and utilisation."""

from flask import Blueprint

bp = Blueprint("workforce", __name__)

from app.workforce import routes  # noqa: E402,F401
