"""The hotline platform's Flask application: create_app() builds it; nothing runs at import."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import Config, ProductionConfig, config_from_env


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_from_env()
    app = Flask(__name__, instance_path=str(config_class.INSTANCE_PATH))
    app.config.from_object(config_class)
    _check_required_settings(app, config_class)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    if not app.config.get("DATA_KEY"):
        app.config["DATA_KEY"] = _instance_secret_key(Path(app.instance_path), "data_key")
    if not app.config.get("CTI_TOKEN"):
        # Production takes secrets from the environment only: a token generated into one machine's
        # instance folder would differ on the next. There the switch uses an issued token instead.
        production = issubclass(config_class, ProductionConfig)
        app.config["CTI_TOKEN"] = "" if production else _instance_secret_key(Path(app.instance_path), "cti_token")
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1)  # type: ignore[method-assign]

    app.url_map.converters["int"] = RowId  # before any route: every <int:…> is a row id
    _init_extensions(app)
    _register_blueprints(app)
    from app import cli, log_setup, web

    log_setup.init_app(app)
    web.init_app(app)
    cli.register_commands(app)
    return app


class RowId(IntegerConverter):
    """<int:…> in a URL names a row: beyond the database's integer range it is simply not found
    (404), where the database would otherwise fail on the oversized number."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = 2**31 - 1, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _check_required_settings(app: Flask, config_class: type[Config]) -> None:
    if issubclass(config_class, ProductionConfig):
        missing = [name for name in ProductionConfig.REQUIRED if not os.environ.get(name)]
        if missing:
            raise RuntimeError("生产环境缺少必需的环境变量: " + ", ".join(missing))
    from telephony_adapter.presence import office_networks

    office_networks(app.config.get("OFFICE_NETWORKS") or "")  # a wrong network is said at start, not at sign-in
    if app.config.get("LOG_FORMAT") not in ("text", "json"):
        raise RuntimeError("HOTLINE_LOG_FORMAT 只能是 text 或 json")


def _instance_secret_key(instance: Path, name: str = "secret_key") -> str:
    """Generated on first run and kept (mode 0600) so sessions (and encrypted data) survive restarts."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # pragma: no cover - trivial
    # SQLite serves the embedded mode: WAL lets the web server and the worker read while one
    # writes, and foreign keys are off unless asked for.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - registers the tables with the metadata
    from app.auth.services import load_user
    from app.extensions import csrf, db, login_manager, migrate
    from telephony_adapter import board  # noqa: F401 - every committed agent or contact change reaches the boards

    db.init_app(app)
    from app.db_pool import ping_when_idle
    from app.models.types import render_migration_type

    with app.app_context():
        ping_when_idle(db.engine)

    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True, render_item=render_migration_type)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.calls import bp as calls_bp
    from app.channels import bp as channels_bp
    from app.chats import bp as chats_bp
    from app.inbox import bp as inbox_bp
    from app.knowledge import bp as knowledge_bp
    from app.main import bp as main_bp
    from app.monitor import bp as monitor_bp
    from app.people import bp as people_bp
    from app.processes import bp as processes_bp
    from app.quality import bp as quality_bp
    from app.reports import bp as reports_bp
    from app.tickets import bp as tickets_bp
    from app.webchat import bp as webchat_bp
    from app.workforce import bp as workforce_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(inbox_bp, url_prefix="/inbox")
    app.register_blueprint(tickets_bp, url_prefix="/tickets")
    app.register_blueprint(processes_bp, url_prefix="/processes")
    app.register_blueprint(knowledge_bp, url_prefix="/kb")
    app.register_blueprint(people_bp, url_prefix="/people")
    app.register_blueprint(calls_bp)
    app.register_blueprint(monitor_bp, url_prefix="/monitor")
    app.register_blueprint(workforce_bp, url_prefix="/workforce")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(quality_bp, url_prefix="/quality")
    app.register_blueprint(channels_bp)
    app.register_blueprint(chats_bp)
    app.register_blueprint(webchat_bp)
