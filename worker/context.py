"""The app a job runs in: built once per worker process, lazily, from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


@contextmanager
def job_app_context() -> Iterator[Flask]:
    global _app
    if has_app_context():  # a test or the CLI running a job in-process
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    if _app is None:
        from app import create_app

        _app = create_app()
    with _app.app_context():
        yield _app
