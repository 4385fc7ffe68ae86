"""Bringing a database to the current schema, used by `hotline serve`, the CLI and the tests."""

from __future__ import annotations

from flask_migrate import upgrade


def apply_migrations() -> None:
    upgrade()


def publish_shipped_processes() -> None:
    """Make the diagrams of this release the newest version (a no-op when already published)."""
    from app.extensions import db
    from workflows import specs

    specs.publish_bundled()
    db.session.commit()
