"""WSGI entry point for gunicorn: `gunicorn wsgi:app` (configured by environment only)."""

from app import create_app
from app.log_setup import configure

app = create_app()
configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
