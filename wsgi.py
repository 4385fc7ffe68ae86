"""WSGI entry point for gunicorn: `gunicorn wsgi:app` (configured by environment only)."""

from app import create_app

app = create_app()
