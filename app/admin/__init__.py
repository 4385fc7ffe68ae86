"""Administration: users, roles, departments, teams, skills, user import, system status."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import routes_org, routes_system, routes_users  # noqa: E402,F401
