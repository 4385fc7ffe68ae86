"""The machine-facing API's description: /api/openapi.json (OpenAPI 3.0)."""

from flask import Blueprint, jsonify

bp = Blueprint("api", __name__)


@bp.route("/api/openapi.json")
def openapi():
    """The OpenAPI document of every endpoint an integration calls with a bearer token."""
    from app.api.openapi import document

    return jsonify(document())


from app.api import routes_v1  # noqa: E402,F401 - registers the /api/v1 views on the blueprint
