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


def test_production_takes_every_secret_from_the_environment_and_writes_none_to_disk(tmp_path, monkeypatch, app):
    """Several machines share one environment: a secret generated into one machine's instance folder
    would differ on the next. Without HOTLINE_CTI_TOKEN there is no installation token at all; the
    switch then uses an issued one (系统管理 → 接口令牌)."""
    for name, value in (("SECRET_KEY", "prod-secret"), ("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"]),
                        ("REDIS_URL", app.config["REDIS_URL"]), ("HOTLINE_DATA_KEY", "prod-data-key-0123456789abcdef")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HOTLINE_CTI_TOKEN", raising=False)

    class Prod(ProductionConfig):
        INSTANCE_PATH = tmp_path
        SECRET_KEY = "prod-secret"
        DATA_KEY = "prod-data-key-0123456789abcdef"
        CTI_TOKEN = None

    production = create_app(Prod)
    assert production.config["CTI_TOKEN"] == "" and list(tmp_path.iterdir()) == []
    # Behind TLS: the session cookie is Secure, HttpOnly and SameSite=Lax.
    assert (production.config["SESSION_COOKIE_SECURE"], production.config["SESSION_COOKIE_HTTPONLY"],
            production.config["SESSION_COOKIE_SAMESITE"]) == (True, True, "Lax")
    with production.app_context():
        from app.integrations import authenticate
        from workflows import clock

        assert authenticate("Bearer ", "cti", clock.now()) is None
        assert authenticate("Bearer x", "cti", clock.now()) is None


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


def test_readiness_says_whether_the_database_and_redis_can_serve(app, client):
    """/readyz: ready with the schema at this release's newest migration and Redis answering; the
    load balancer stops sending requests (503) when either is missing, with the reason."""
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    body = ready.get_json()
    assert body["status"] == "ready" and body["database"]["ok"] and body["redis"]["ok"]
    assert body["database"]["revision"] and isinstance(body["workers"], int)
    from app.redis_client import get_redis

    working = app.extensions["hotline_redis"] if "hotline_redis" in app.extensions else get_redis(app)
    import redis

    app.extensions["hotline_redis"] = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        down = client.get("/readyz")
    finally:
        app.extensions["hotline_redis"] = working
    assert down.status_code == 503 and down.get_json()["redis"] == {"ok": False, "error": "Redis 不可用"}
    with app.app_context():
        db.session.execute(db.text("UPDATE alembic_version SET version_num = 'an_older_one'"))
        db.session.commit()
    try:
        stale = client.get("/readyz").get_json()
        assert stale["status"] == "not_ready" and "an_older_one" in stale["database"]["error"]
    finally:
        with app.app_context():
            from app.main.readiness import _head

            db.session.execute(db.text("UPDATE alembic_version SET version_num = :head"), {"head": _head()})
            db.session.commit()


def test_every_log_line_names_its_request_or_its_job(app, client, auth):
    """A proxy's X-Request-ID is kept (a malformed one replaced) and echoed; a line logged while a
    request or an rq job runs carries its id, in the JSON a log collector reads."""
    import io
    import json as jsonlib
    import logging

    from app.log_setup import ContextFilter, JsonFormatter
    from tests.conftest import csrf_token

    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a"}).headers["X-Request-ID"] == "lb-7f3a"
    fresh = client.get("/healthz", headers={"X-Request-ID": "no spaces; or quotes\""}).headers["X-Request-ID"]
    assert len(fresh) == 32 and int(fresh, 16) >= 0
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # as configure() sets it in the web and worker processes
    try:
        with app.test_request_context("/", headers={"X-Request-ID": "req-42"}):
            app.preprocess_request()
            logging.getLogger("app.test").warning("参保人信息已查看")
        factories.user("admin8", ["admin"])
        auth.login("admin8")
        client.post("/admin/status/heartbeat", data={"csrf_token": csrf_token(client, "/admin/status")})
        queue = Queue("default", connection=get_redis())
        [job_id] = queue.job_ids
        SimpleWorker([queue], connection=get_redis()).work(burst=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [jsonlib.loads(line) for line in out.getvalue().splitlines()]
    [in_request] = [line for line in lines if line["logger"] == "app.test"]
    assert (in_request["request_id"], in_request["message"]) == ("req-42", "参保人信息已查看")
    [in_job] = [line for line in lines if line["logger"] == "worker.jobs"]
    assert in_job["job_id"] == job_id and in_job["message"].startswith("heartbeat at ")


def test_a_database_outage_is_a_503_that_says_what_happened_never_a_trace(app, client, auth, monkeypatch):
    """The real cut is tests/test_faults.py (PostgreSQL); here the database's refusal is raised where
    a page and a form would meet it. A page reloads itself; a sent form says it was not saved and
    does not reload into a blank form."""
    from sqlalchemy.exc import OperationalError

    from app.inbox import services as inbox
    from tests.conftest import csrf_token

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception('connection to server at "10.0.0.5" failed'))

    factories.user("agent1", ["agent"])
    auth.login("agent1")
    token = csrf_token(client, "/inbox/")
    monkeypatch.setattr(inbox, "page", unreachable)
    page = client.get("/inbox/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "系统暂时不可用" in page.get_data(as_text=True) and 'http-equiv="refresh"' in page.get_data(as_text=True)
    monkeypatch.setattr(inbox, "claim", unreachable)
    sent = client.post("/inbox/tasks/t-1/claim", data={"csrf_token": token})
    body = sent.get_data(as_text=True)
    assert sent.status_code == 503 and "没有保存" in body and "refresh" not in body
    assert "10.0.0.5" not in body  # the database's address stays in the log
    api = client.get("/inbox/", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.get_json() == {"error": "数据库暂时不可用，请稍后重试"}
