"""Insured people (参保人): search, the person page with its access rules, edits, imports, access log."""

from flask import Blueprint

bp = Blueprint("people", __name__)

from app.people import routes, routes_audit, routes_import  # noqa: E402,F401
