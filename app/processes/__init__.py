"""Managers reshape the ticket loop: the BPMN editor, drafts, validation, versions, diff, import and export."""

from flask import Blueprint

bp = Blueprint("processes", __name__)

from app.processes import routes  # noqa: E402,F401
