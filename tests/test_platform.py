"""The platform itself: configuration, secrets, migrations, the background worker, health."""

from __future__ import annotations

import os
import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from rq import Queue, SimpleWorker

from app import create_app
from app.extensions import db
from app.redis_client import get_redis
from config import DevelopmentConfig, ProductionConfig, normalise_database_url
from tests import factories


def test_migrations_build_exactly_the_schema_the_models_describe(app):
    """The suite's schema was made by the migrations alone; the models must not differ from it."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    class Local(DevelopmentConfig):
        INSTANCE_PATH = tmp_path
        SECRET_KEY = None

    first = create_app(Local).config["SECRET_KEY"]
    second = create_app(Local).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_production_refuses_to_start_without_its_settings(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)

    class Prod(ProductionConfig):
        INSTANCE_PATH = tmp_path

    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        create_app(Prod)


def test_postgres_urls_use_the_installed_driver():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_background_job_runs_on_a_real_worker_and_shows_on_the_status_page(app, client, auth):
    """The admin sends a test job; an rq worker on the real Redis runs it; the status page shows it."""
    from tests.conftest import csrf_token

    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, "/admin/status")
    client.post("/admin/status/heartbeat", data={"csrf_token": token})
    queue = Queue("default", connection=get_redis())
    assert queue.count == 1
    SimpleWorker([queue], connection=get_redis()).work(burst=True)
    assert queue.count == 0
    page = client.get("/admin/status").get_data(as_text=True)
    assert "最近心跳任务：尚无" not in page
    assert "正常" in page


def test_health_endpoint_needs_no_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_page_is_a_chinese_404(client, auth):
    factories.user("agent1", ["agent"])
    auth.login("agent1")
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
