"""Tickets: intake (受理), the ticket page with its timeline, and the task forms."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)

from app.tickets import routes, routes_diagram, routes_extra  # noqa: E402,F401
