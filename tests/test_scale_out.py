"""Scale-out: a second web process (gunicorn, started here against the suite's own database and
Redis) holds the agent's event stream; the switch's events arrive at the first; the screen pop still
reaches the agent, because every push goes through Redis, not through a process's memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from app.extensions import db
from app.models import CallQueue, UserSkill
from telephony_adapter import agents
from tests import factories
from tests.sip_peers import free_port
from workflows import clock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def second_web_process(app, tmp_path):
    import socket

    port = free_port(socket.SOCK_STREAM)
    env = {**os.environ, "HOTLINE_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": app.config["REDIS_URL"], "HOTLINE_INSTANCE_PATH": app.instance_path,
           "SECRET_KEY": app.config["SECRET_KEY"], "HOTLINE_CTI_TOKEN": app.config["CTI_TOKEN"],
           "HOTLINE_SEED_DEMO_DATA": "0"}
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                "--threads", "4", "--worker-class", "gthread", "--graceful-timeout", "2", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("the second web process did not start:\n" + (tmp_path / "gunicorn.log").read_text())
        time.sleep(0.2)
    yield url
    process.terminate()  # an open event stream would hold a graceful stop: two seconds, then it is ended
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    log.close()


def test_a_screen_pop_reaches_the_agent_whose_stream_another_web_process_holds(app, live_server,
                                                                              second_web_process):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, ivr_digit="2"))
    agent = factories.user("agent1", ["agent"])
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()

    browser = requests.Session()  # the agent's browser, served by the second process
    page = browser.get(f"{second_web_process}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed_in = browser.post(f"{second_web_process}/login", data={"csrf_token": token, "username": "agent1",
                                                                  "password": factories.PASSWORD})
    assert signed_in.status_code == 200 and "/login" not in signed_in.url
    heard: list[str] = []
    stream = browser.get(f"{second_web_process}/calls/stream", stream=True, timeout=30)
    assert stream.status_code == 200

    def listen() -> None:
        for line in stream.iter_lines(decode_unicode=True):
            heard.append(line)
            if line.startswith("data:") and "contact_id" in line and any(h == "event: offer" for h in heard):
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)  # the stream has subscribed
    agents.set_state(agent.id, "ready", clock.now())

    switch = {"Authorization": f"Bearer {app.config['CTI_TOKEN']}"}  # the switch talks to the first process
    for kind, data in (("incoming", {"caller": "13800000031"}), ("ivr", {"digit": "2"}), ("queued", {})):
        body = {"source": "pbx1", "event_id": f"so-{kind}", "kind": kind, "call_id": "scale-1",
                "at": clock.now().isoformat(), "data": data}
        answer = requests.post(f"{live_server}/cti/events", json=body, headers=switch, timeout=10)
        assert answer.status_code == 200, answer.text
    assert answer.json()["offered_to"] == agent.id
    listener.join(15)
    stream.close()
    assert "event: offer" in heard, heard
    offer = heard[heard.index("event: offer") + 1]
    assert offer.startswith("data:") and f'"contact_id": {answer.json()["contact"]["id"]}' in offer
