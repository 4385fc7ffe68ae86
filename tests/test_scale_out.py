"""Scale-out: a second web process (gunicorn, started here against the suite's own database and
Redis) holds the agent's event stream; the switch's events arrive at the first; the screen pop still
reaches the agent, because every push goes through Redis, not through a process's memory."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from app.extensions import db
from app.models import CallQueue, UserSkill
from telephony_adapter import agents
from tests import factories
from tests.platform_processes import Web, child_env, sign_in
from workflows import clock


@pytest.fixture
def second_web_process(app, tmp_path):
    web = Web(child_env(app, app.config["REDIS_URL"]), tmp_path / "gunicorn.log", threads=4).start()
    yield web.url
    web.stop(10)  # an open event stream would hold a graceful stop: five seconds, then it is ended


def test_a_screen_pop_reaches_the_agent_whose_stream_another_web_process_holds(app, live_server,
                                                                              second_web_process):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1, ivr_digit="2"))
    agent = factories.user("agent1", ["agent"])
    db.session.add(UserSkill(user_id=agent.id, skill_id=skill.id, level=3))
    db.session.commit()

    browser = sign_in(second_web_process, "agent1")  # the agent's browser, served by the second process
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
