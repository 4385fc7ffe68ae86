"""Bringing a database to the current schema, used by `hotline serve`, the CLI and the tests."""

from __future__ import annotations

from flask_migrate import upgrade


def apply_migrations() -> None:
    upgrade()
