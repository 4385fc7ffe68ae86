"""Fixtures: the app built once per session on a clean database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is given), a real Redis (TEST_REDIS_URL, or an embedded one), and a real
headless Chromium driven by Playwright for the browser tests."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.redis_client import EmbeddedRedis, get_redis
from config import TestingConfig, normalise_database_url

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytest_plugins = ["tests.world"]  # the `world` fixture: one of everything a route can name


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline-test.sqlite3'}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, hence its own `g` and database session, as in a
    real server: nothing the test holds leaks into the request, and the test's own session
    forgets what it loaded so the next read sees what the request committed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")

    class SuiteConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        INSTANCE_PATH = instance

    application = create_app(SuiteConfig)
    from workflows import serialization, task_walk

    serialization.verify_dumps = True  # every state the suite writes is checked against the library's own dump
    task_walk.verify = True  # and every task query the engine makes, against the library's iterator
    application.test_client_class = FreshContextClient
    with application.app_context():
        _reset_schema()
        from app.setup import apply_migrations

        apply_migrations()
        db.session.remove()
    return application


def _reset_schema() -> None:
    """Start from nothing, so that the migrations themselves build the schema under test."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _empty_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        # A request the closed page had in flight may still be reading on the live server: TRUNCATE
        # then waits for it, or PostgreSQL ends one of the two as a deadlock. Try again shortly.
        for attempt in range(10):
            try:
                with db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return
            except OperationalError:
                if attempt == 9:
                    raise
                time.sleep(0.3)
    else:
        with db.engine.begin() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(tables):
                conn.execute(table.delete())
            conn.execute(text("PRAGMA foreign_keys=ON"))


_OPEN_CONTEXTS: list = []  # browser contexts opened by signed_in(), closed after each test


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Every test starts with empty tables and an empty Redis database."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        yield
        # Pages left open keep their event streams reconnecting; close them before the tables empty.
        while _OPEN_CONTEXTS:
            _OPEN_CONTEXTS.pop().close()
        db.session.remove()
        _empty_tables()
        get_redis().flushdb()
        from workflows import serialization, specs

        serialization.live.clear()  # ids restart with the emptied tables
        specs._parsed.clear()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class AuthActions:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, username: str, password: str = "Passw0rd!", follow: bool = False):
        token = csrf_token(self.client, "/login")
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# --- browser ---------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free loopback port, for Chromium to talk to."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"浏览器测试需要 Debian 的 chromium（{CHROMIUM}）：apt-get install -y chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # 视频服务: a generated camera and microphone, allowed without asking
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def signed_in(browser, live_server: str, username: str, width: int = 1280, height: int = 860,
              timeout_ms: int = 10_000):
    """A new browser context signed in as `username` (the factories' password), on the page after sign-in."""
    from tests import factories

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": height})
    _OPEN_CONTEXTS.append(context)
    tab = context.new_page()
    tab.set_default_timeout(timeout_ms)
    tab.goto(f"{live_server}/login")
    tab.fill("#username", username)
    tab.fill("#password", factories.PASSWORD)
    tab.press("#password", "Enter")
    tab.wait_for_selector("h1")
    tab.wait_for_load_state("load")  # the page's scripts (keyboard shortcuts) are live
    return tab


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def media_control(app):
    """A loopback HTTP server standing where the media component's control port listens."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, dict, str]] = []

    class Control(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the library's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body, self.headers.get("Authorization", "")))
            refused = self.path.endswith("/transfer")
            payload = json.dumps({"message": "同事尚未接听" if refused else "ok"}).encode()
            self.send_response(409 if refused else 200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["MEDIA_CONTROL_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield seen
    app.config["MEDIA_CONTROL_URL"] = None
    server.shutdown()


def pytest_terminal_summary(terminalreporter):
    """The fault stories (tests/test_faults.py) say what the platform survived."""
    from tests.platform_processes import SURVIVED

    if SURVIVED:
        terminalreporter.section("故障演练：平台经受住了")
        for line in SURVIVED:
            terminalreporter.write_line(f"✔ {line}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report kept on the test, so a fixture's teardown can tell whether the story
    failed (the SIP peers then print their logs: tests.sip_peers.Peers.tell)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
