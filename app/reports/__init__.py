"""报表: the service indicators (考核指标) with their definitions and the rows behind each figure."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.reports import routes  # noqa: E402,F401
