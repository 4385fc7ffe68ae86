"""The knowledge base 知识库: search with live suggestions, articles with reviewed versions, synonyms,
policy changes and their timeliness, Excel import and export."""

from flask import Blueprint

bp = Blueprint("knowledge", __name__)

from app.knowledge import routes, routes_admin  # noqa: E402,F401
