"""`hotline serve`: one command runs the whole platform.

It applies migrations, starts the embedded Redis when no REDIS_URL is given, seeds demo data
into an empty database, then runs an rq worker and gunicorn as child processes and stops them
all together. Production runs the same pieces as separate services instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import Flask

from app.redis_client import EmbeddedRedis


class Supervisor:
    def __init__(self, app: Flask, host: str | None, port: int | None, web_workers: int | None) -> None:
        self.app = app
        self.host = host or os.environ.get("HOTLINE_HOST", "127.0.0.1")
        self.port = port or int(os.environ.get("HOTLINE_PORT", "5000"))
        self.web_workers = web_workers or int(os.environ.get("HOTLINE_WEB_WORKERS", "2"))
        self.redis: EmbeddedRedis | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def _child_env(self, redis_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env["REDIS_URL"] = redis_url
        env.setdefault("HOTLINE_INSTANCE_PATH", self.app.instance_path)
        return env

    def _start_worker(self, env: dict[str, str]) -> None:
        # Own sessions: Ctrl+C reaches only the supervisor, which stops the children in order.
        self.children["worker"] = subprocess.Popen([sys.executable, "-m", "worker.main"], env=env,  # noqa: S603
                                                   start_new_session=True)

    def _start_web(self, env: dict[str, str]) -> None:
        args = [sys.executable, "-m", "gunicorn", "--bind", f"{self.host}:{self.port}",
                "--workers", str(self.web_workers), "--threads", "8", "--worker-class", "gthread",
                "--access-logfile", "-", "--graceful-timeout", "10",
                "--no-control-socket", "wsgi:app"]
        self.children["web"] = subprocess.Popen(args, env=env, start_new_session=True,  # noqa: S603
                                                cwd=str(Path(__file__).resolve().parent.parent))

    def run(self) -> None:
        from app.demo import demo_logins, seed_demo_data
        from app.setup import apply_migrations, publish_shipped_processes

        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            redis_url = self.app.config.get("REDIS_URL")
            if not redis_url:
                self.redis = EmbeddedRedis(Path(self.app.instance_path))
                redis_url = self.redis.start()
                click.echo(f"内置 Redis 已启动：{redis_url}")
            with self.app.app_context():
                apply_migrations()
                publish_shipped_processes()
                click.echo("数据库结构已更新到最新版本。")
                seeded = self.app.config["SEED_DEMO_DATA"] and seed_demo_data()
            env = self._child_env(redis_url)
            self._start_worker(env)
            self._start_web(env)
            self._announce(seeded, demo_logins())
            self._watch(env)
        finally:
            self._stop()

    def _announce(self, seeded: bool, logins: list[tuple[str, str, str]]) -> None:
        click.echo("")
        click.echo(f"医保服务热线平台已启动： http://{self.host}:{self.port}/")
        if self.app.config["SEED_DEMO_DATA"]:
            click.echo("演示账户（已写入演示数据）：" if seeded else "演示账户（若未修改）：")
            for username, password, roles in logins:
                click.echo(f"  {username:<12} 密码 {password:<10} {roles}")
        click.echo("按 Ctrl+C 停止。")

    def _watch(self, env: dict[str, str]) -> None:
        restarts = 0
        while not self.stopping:
            time.sleep(0.5)
            web = self.children["web"]
            if web.poll() is not None and not self.stopping:
                raise click.ClickException(f"Web 服务异常退出（退出码 {web.returncode}）")
            worker = self.children["worker"]
            if worker.poll() is not None and not self.stopping:
                restarts += 1
                if restarts > 5:
                    raise click.ClickException("后台任务进程反复退出，已停止平台")
                click.echo(f"后台任务进程退出（退出码 {worker.returncode}），正在重启…", err=True)
                time.sleep(min(restarts, 5))
                self._start_worker(env)

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _stop(self) -> None:
        self.stopping = True
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if self.redis is not None:
            self.redis.stop()
        click.echo("平台已停止。")
