"""The platform as real processes, for the stories that need more than the in-process app: gunicorn
web processes and rq workers started on the suite's database, a Redis server of their own that can
be killed and started again, and a TCP link to PostgreSQL that can be cut."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from app.redis_client import EmbeddedRedis
from tests.sip_peers import free_port

ROOT = Path(__file__).resolve().parent.parent
SURVIVED: list[str] = []  # what the fault stories survived, printed by conftest's terminal summary


def child_env(app, redis_url: str, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """What a web process or worker of this installation is given: the suite's database (or the
    cuttable link to it), the given Redis and the suite app's secrets, so sessions carry over."""
    return {**os.environ, "HOTLINE_ENV": "development",
            "DATABASE_URL": database_url or app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
            "HOTLINE_INSTANCE_PATH": app.instance_path, "SECRET_KEY": app.config["SECRET_KEY"],
            "HOTLINE_DATA_KEY": app.config["DATA_KEY"], "HOTLINE_CTI_TOKEN": app.config["CTI_TOKEN"],
            "HOTLINE_SEED_DEMO_DATA": "0", **extra}


class Process:
    """A child in its own process group, so that killing it kills what it forked (gunicorn's
    workers, rq's work horse) too."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log,  # noqa: S603
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.running:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def descendants(self) -> list[int]:
        """Every process forked below this one (rq's work horse starts a session of its own, so
        its process group alone would miss it)."""
        found, todo = [], [self.process.pid] if self.running else []
        while todo:
            pid = todo.pop()
            try:
                children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
        return found

    def kill(self) -> None:
        """SIGKILL to the process and all it forked: no clean-up of any kind, as when a machine
        loses power."""
        for pid in [*self.descendants(), *([self.process.pid] if self.running else [])]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None:
            self.process.wait(10)

    def stop(self, timeout: float = 15) -> bool:
        """SIGTERM, as systemd sends; True when the process ended by itself within `timeout`
        (otherwise it is killed)."""
        if not self.running:
            return True
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Web(Process):
    """gunicorn serving wsgi:app on a fixed port, so a restarted one is found at the same address."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1, threads: int = 8) -> None:
        self.port = free_port(socket.SOCK_STREAM)
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers",
                          str(workers), "--threads", str(threads), "--worker-class", "gthread", "--graceful-timeout",
                          "5", "--no-control-socket", "wsgi:app"], env, log)

    def start(self, timeout: float = 30) -> Web:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if not self.running:
                break
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"the web process did not start:\n{self.log()}")


class Worker(Process):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__([sys.executable, "-m", "worker.main"], env, log)


class OwnRedis:
    """A Redis server for one story, on a unix socket in its folder, that can be killed (losing
    everything it held: no save) and started again empty."""

    def __init__(self, folder: Path) -> None:
        self.server = EmbeddedRedis(folder)
        self.url = self.server.url

    def start(self) -> OwnRedis:
        (self.server.instance_path / "redis.rdb").unlink(missing_ok=True)  # starts empty
        self.server.start()
        return self

    def kill(self) -> None:
        if self.server.process is not None:
            self.server.process.kill()
            self.server.process.wait(10)
            self.server.process = None
        (self.server.instance_path / "redis.rdb").unlink(missing_ok=True)


class CuttableLink(threading.Thread):
    """A TCP relay in front of PostgreSQL. `cut()` drops every open connection and refuses new ones,
    as a failing network or a database restart would; `restore()` lets connections through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(daemon=True, name="cuttable-link")
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.cuts = 0

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for end in (client, upstream):
                end.close()
            with self.lock:
                if (client, upstream) in self.pairs:
                    self.pairs.remove((client, upstream))

    def cut(self) -> None:
        self.open.clear()
        self.cuts += 1
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def sign_in(url: str, username: str, password: str | None = None) -> requests.Session:
    """A browser signed in to the web process at `url` (the factories' password by default)."""
    import re

    from tests import factories

    browser = requests.Session()
    page = browser.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = browser.post(f"{url}/login", data={"csrf_token": token, "username": username,
                                                "password": password or factories.PASSWORD}, timeout=10)
    assert "/login" not in answer.url, answer.text[:500]
    return browser
