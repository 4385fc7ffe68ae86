"""质检: daily samples of each agent's calls, chats and tickets, scored, appealed and decided."""

from flask import Blueprint

bp = Blueprint("quality", __name__)

from app.quality import routes  # noqa: E402,F401
