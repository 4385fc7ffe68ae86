"""Benchmark: how late the wallboard sees an agent's state change, and what each board costs.

    .venv/bin/python bench/board.py [--agents 150] [--interval 3] [--boards 20] [--seconds 30]

The platform runs as in production: gunicorn (2 gthread workers) on DATABASE_URL (a temporary
SQLite file when unset) and REDIS_URL (an embedded Redis when unset). A separate process changes
the states of `--agents` agents (示闲 ↔ 示忙, each every `--interval` seconds on average, through
the same service call the agent bar makes). Boards are clients of the board's own endpoints: the
snapshot (/monitor/board.json, on opening and every 15 s as the page does) and the live feed
(/monitor/stream). Latency is from the state change's commit (stamped by the platform) to its
arrival at a board, over every board.

Two phases of `--seconds` each: one board, then `--boards` boards, with the same changes. The
server's cost per board is the extra CPU time of the gunicorn processes per board per second.
The last line is one JSON object with `board_update_p95_ms`."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accounts import ensure_user  # noqa: E402 - after the path is set

PASSWORD = "Bench12393!"  # noqa: S105 - the benchmark's own generated accounts
SNAPSHOT_EVERY = 15.0  # as the page does


def prepare(agents: int) -> list[int]:
    from sqlalchemy import delete

    from app import create_app
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import AgentPresence, AgentStateLog
    from app.setup import apply_migrations
    from config import config_from_env
    from telephony_adapter import agents as agent_states
    from workflows import clock

    app = create_app(config_from_env())
    with app.app_context():
        apply_migrations()
        db.session.execute(delete(AgentStateLog))
        db.session.execute(delete(AgentPresence))
        password = hash_password(PASSWORD)
        ids = []
        for name, role in [("board_lead", "team_lead")] + [(f"board_agent_{n:03d}", "agent") for n in range(agents)]:
            user = ensure_user(name, role, password)
            if role == "agent":
                ids.append(user.id)
        db.session.commit()
        for user_id in ids:
            agent_states.set_state(user_id, "ready", clock.now())
        return ids


def change_states(agent_ids: list[int], interval: float, seconds: float, done) -> None:
    """Every agent flips between 示闲 and 示忙 about every `interval` seconds, in random order."""
    from app import create_app
    from config import config_from_env
    from telephony_adapter import agents
    from workflows import clock

    app = create_app(config_from_env())
    rate = len(agent_ids) / interval
    changes = 0
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import AgentPresence

        ready = dict.fromkeys(agent_ids, False)  # where the last phase left each agent
        ready.update({user_id: True for user_id in db.session.scalars(
            select(AgentPresence.user_id).where(AgentPresence.state == "ready"))})
        db.session.commit()
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            user_id = random.choice(agent_ids)  # noqa: S311 - a load pattern, not a secret
            if ready[user_id]:
                agents.set_state(user_id, "not_ready", clock.now(), "break")
            else:
                agents.set_state(user_id, "ready", clock.now())
            ready[user_id] = not ready[user_id]
            changes += 1
            behind = started + changes / rate - time.monotonic()
            if behind > 0:
                time.sleep(behind)
    done.put(changes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "64", "--timeout", "120", "--graceful-timeout", "3",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(f"{base}/login", timeout=1).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/login", data={"username": "board_lead", "password": PASSWORD, "csrf_token": token},
                          timeout=10)
    if "/login" in answer.url:
        raise SystemExit("the team lead could not sign in")
    return session


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Board(threading.Thread):
    """One open board: the snapshot now and every 15 s, and the live feed."""

    def __init__(self, base: str, cookies, latencies: list[float]) -> None:
        super().__init__(daemon=True)
        self.base, self.latencies = base, latencies
        self.session = requests.Session()
        self.session.cookies.update(cookies)
        self.snapshots = 0
        self.stream = None
        self.connected = threading.Event()

    def stop(self) -> None:
        """Close the feed (the read it is blocked in ends) once every change has had time to arrive."""
        if self.stream is not None:
            self.stream.close()

    def snapshot(self) -> None:
        if self.session.get(f"{self.base}/monitor/board.json", timeout=10).status_code == 200:
            self.snapshots += 1

    def run(self) -> None:
        self.snapshot()
        next_snapshot = time.time() + SNAPSHOT_EVERY
        self.stream = self.session.get(f"{self.base}/monitor/stream", stream=True, timeout=30)
        self.connected.set()
        kind = None
        try:
            for line in self.stream.iter_lines(decode_unicode=True):
                now = time.time()
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "agent":
                    self.latencies.append((now - json.loads(line[6:])["at"]) * 1000)
                if now >= next_snapshot:  # the page's periodic refresh (done between events here)
                    self.snapshot()
                    next_snapshot = now + SNAPSHOT_EVERY
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by stop()


def phase(base: str, cookies, server_pid: int, boards: int, agent_ids: list[int], interval: float,
          seconds: float) -> dict:
    latencies: list[float] = []
    clients = [Board(base, cookies, latencies) for _ in range(boards)]
    for client in clients:
        client.start()
    for client in clients:
        client.connected.wait(timeout=30)
    time.sleep(0.5)  # every feed subscribed before the changes start
    done = mp.get_context("fork").Queue()
    changer = mp.get_context("fork").Process(target=change_states, args=(agent_ids, interval, seconds, done))
    cpu_before, started = cpu_seconds(server_pid), time.monotonic()
    changer.start()
    changes = done.get(timeout=seconds + 120)
    changer.join()
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(server_pid) - cpu_before
    time.sleep(2.0)  # the last changes on their way
    for client in clients:
        client.stop()
        client.join(timeout=5)
    return {"boards": boards, "changes": changes, "changes_per_s": changes / elapsed, "received": len(latencies),
            "server_cpu_s_per_s": cpu / elapsed, "latencies": latencies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="hotline-bench-board-")
    os.environ.setdefault("HOTLINE_INSTANCE_PATH", folder)
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-board-secret")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from app.redis_client import EmbeddedRedis

        embedded = EmbeddedRedis(Path(os.environ["HOTLINE_INSTANCE_PATH"]))
        os.environ["REDIS_URL"] = embedded.start()
    agent_ids = prepare(args.agents)
    server, base = start_server(dict(os.environ))
    try:
        cookies = sign_in(base).cookies
        one = phase(base, cookies, server.pid, 1, agent_ids, args.interval, args.seconds)
        many = phase(base, cookies, server.pid, args.boards, agent_ids, args.interval, args.seconds)
    finally:
        server.terminate()  # the boards' feeds are open streams: gunicorn gives them 3 s
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if embedded is not None:
            embedded.stop()
    latencies = sorted(many["latencies"])
    cuts = statistics.quantiles(latencies, n=100)
    expected = many["changes"] * args.boards
    per_board = (many["server_cpu_s_per_s"] - one["server_cpu_s_per_s"]) / max(1, args.boards - 1)
    figures = {
        "agents": args.agents, "boards": args.boards, "changes_per_s": round(many["changes_per_s"], 1),
        "board_update_p50_ms": round(cuts[49], 1), "board_update_p95_ms": round(cuts[94], 1),
        "board_update_max_ms": round(latencies[-1], 1), "updates_received": many["received"],
        "updates_expected": expected,
        "server_cpu_ms_per_s_one_board": round(one["server_cpu_s_per_s"] * 1000, 1),
        "server_cpu_ms_per_s_all_boards": round(many["server_cpu_s_per_s"] * 1000, 1),
        "server_cpu_ms_per_s_per_board": round(per_board * 1000, 2),
        "database": "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
    }
    print(f"{args.agents} agents, {figures['changes_per_s']} state changes/s, {args.boards} boards")
    print(f"board update latency: p50 {figures['board_update_p50_ms']} ms, p95 {figures['board_update_p95_ms']} ms "
          f"({many['received']} of {expected} updates received)")
    print(f"server CPU: {figures['server_cpu_ms_per_s_one_board']} ms/s with one board, "
          f"{figures['server_cpu_ms_per_s_all_boards']} ms/s with {args.boards}: "
          f"{figures['server_cpu_ms_per_s_per_board']} ms/s per board")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
