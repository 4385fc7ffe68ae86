"""The README's first command: `hotline serve` on a fresh instance folder with nothing running —
embedded Redis, SQLite, migrations, demo data, a worker and the web server, stopped by Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_command_serves_the_login_page_with_demo_users(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env |= {"HOTLINE_INSTANCE_PATH": str(tmp_path), "HOTLINE_ENV": "development", "HOTLINE_WEB_WORKERS": "1"}
    hotline = Path(sys.executable).parent / "hotline"
    process = subprocess.Popen([str(hotline), "serve", "--port", str(port)], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/login", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its first answer is slow
                time.sleep(0.3)
        else:
            raise AssertionError("the login page never answered")

        session = requests.Session()
        form = session.get(f"{base}/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        home = session.post(f"{base}/login", data={"username": "agent1", "password": "demo12393", "csrf_token": token})
        assert "坐席工作台" in home.text and "李娜" in home.text

        # The worker is up and reached the embedded Redis through the instance folder's socket.
        import redis

        conn = redis.Redis.from_url(f"unix://{tmp_path / 'redis.sock'}")
        deadline = time.monotonic() + 30
        while not conn.keys("rq:worker:*") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert conn.keys("rq:worker:*")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output and "agent1" in output and "demo12393" in output
    assert "平台已停止" in output
    assert not (tmp_path / "redis.sock").exists()  # the embedded Redis went down with it
    assert (tmp_path / "hotline.sqlite3").exists()
