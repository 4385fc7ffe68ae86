"""Task inboxes: my tasks, my roles' unclaimed tasks, my department's tasks."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from app.inbox import routes  # noqa: E402,F401
