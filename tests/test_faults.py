"""Faults, survived on loopback with the platform's real processes (gunicorn, rq workers, a Redis of
their own, PostgreSQL behind a link that can be cut): a worker killed mid-job, Redis killed and
started again empty, the web processes restarted under the switch's traffic, the database cut for
a few seconds. Each story proves nothing was lost — every call event applied exactly once, every
reply delivered, every due timer fired — and adds a line to the summary printed at the end."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatMessage, Contact, ContactEvent, SlaEvent
from telephony_adapter import chats
from telephony_adapter.wechat import InboundMessage
from tests import factories
from tests import wechat_peer as peer
from tests.loop import COMPLAINT, staff
from tests.platform_processes import SURVIVED, CuttableLink, OwnRedis, Web, Worker, child_env, sign_in
from workflows import clock

RESEND_AFTER = 3  # seconds: the outbox's patience, shortened for the story


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the other processes committed
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


class Platform:
    def __init__(self, app, folder, redis: OwnRedis, database_url: str | None, link: CuttableLink | None,
                 api: peer.ApiServer) -> None:
        self.app, self.folder, self.redis, self.link, self.wechat = app, folder, redis, link, api
        self.env = child_env(app, redis.url, database_url, HOTLINE_TIMER_SWEEP_SECONDS="2",
                             HOTLINE_OUTBOX_SWEEP_SECONDS="2", HOTLINE_CHAT_RESEND_AFTER_SECONDS=str(RESEND_AFTER),
                             HOTLINE_WECHAT_TOKEN=peer.TOKEN, HOTLINE_WECHAT_AES_KEY=peer.AES_KEY,
                             HOTLINE_WECHAT_APPID=peer.APP_ID, HOTLINE_WECHAT_SECRET=peer.SECRET,
                             HOTLINE_WECHAT_API_BASE=api.base)
        self.web = Web(self.env, folder / "web.log")
        self.workers: list[Worker] = []

    def worker(self) -> Worker:
        worker = Worker(self.env, self.folder / f"worker-{len(self.workers) + 1}.log").start()
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log()[-3000:]}" for p in [self.web, *self.workers])


@pytest.fixture
def platform(app, tmp_path):
    """Web and worker processes on the suite's database (PostgreSQL through a cuttable link) and a
    Redis of their own, which the suite's app uses too for the story."""
    redis = OwnRedis(tmp_path / "redis").start()
    saved = app.config["REDIS_URL"], app.extensions.pop("hotline_redis", None)
    app.config["REDIS_URL"] = redis.url
    api = peer.ApiServer()
    app.config.update(WECHAT_TOKEN=peer.TOKEN, WECHAT_AES_KEY=peer.AES_KEY, WECHAT_APPID=peer.APP_ID,
                      WECHAT_SECRET=peer.SECRET, WECHAT_API_BASE=api.base, CHAT_RESEND_AFTER_SECONDS=RESEND_AFTER)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    link = database_url = None
    if url.startswith("postgresql"):
        parts = urlsplit(url)
        link = CuttableLink(parts.hostname or "127.0.0.1", parts.port or 5432)
        link.start()
        database_url = urlunsplit(parts._replace(netloc=parts.netloc.replace(f"{parts.hostname}:{parts.port}",
                                                                             f"127.0.0.1:{link.port}")))
    running = Platform(app, tmp_path, redis, database_url, link, api)
    try:
        yield running
    except BaseException:
        print(running.logs())
        raise
    finally:
        for process in [running.web, *running.workers]:
            process.stop(10)
        if link is not None:
            link.close()
        api.stop()
        redis.kill()
        app.config.update(WECHAT_TOKEN=None, WECHAT_AES_KEY=None, WECHAT_APPID=None, WECHAT_SECRET=None,
                          CHAT_RESEND_AFTER_SECONDS=60)
        app.config["REDIS_URL"] = saved[0]
        app.extensions.pop("hotline_redis", None)
        if saved[1] is not None:
            app.extensions["hotline_redis"] = saved[1]


class Switch(threading.Thread):
    """A switch reporting calls as a real one does: each event posted until the platform answers it,
    the same event id every time (a timeout, a refused connection or a 503 is simply tried again)."""

    def __init__(self, url: str, token: str, calls: int, prefix: str, pause: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.calls, self.prefix, self.pause = url, token, calls, prefix, pause
        self.answers: dict[int, int] = {}  # status → how many
        self.retries = 0
        self.done = threading.Event()

    def post(self, body: dict) -> dict:
        while True:
            try:
                answer = requests.post(f"{self.url}/cti/events", json=body, timeout=5,
                                       headers={"Authorization": f"Bearer {self.token}"})
                self.answers[answer.status_code] = self.answers.get(answer.status_code, 0) + 1
                if answer.status_code == 200:
                    return answer.json()
                assert answer.status_code == 503, answer.text  # anything but "try again" is a defect
                assert answer.json()["error"]
            except requests.RequestException:
                self.answers[0] = self.answers.get(0, 0) + 1
            self.retries += 1
            time.sleep(0.3)

    def run(self) -> None:
        for n in range(self.calls):
            call_id = f"{self.prefix}-{n}"
            for kind, data in (("incoming", {"caller": f"1380000{n:04d}"}), ("queued", {}), ("hangup", {})):
                self.post({"source": "pbx1", "event_id": f"{call_id}-{kind}", "kind": kind, "call_id": call_id,
                           "at": clock.now().isoformat(), "data": data})
            time.sleep(self.pause)
        self.done.set()


def assert_every_call_exactly_once(switch: Switch) -> None:
    call_ids = [f"{switch.prefix}-{n}" for n in range(switch.calls)]
    contacts = db.session.execute(select(Contact.call_id, Contact.state, func.count(Contact.id))
                                  .where(Contact.call_id.in_(call_ids)).group_by(Contact.call_id, Contact.state)).all()
    assert sorted((c, s, n) for c, s, n in contacts) == sorted((c, "ended", 1) for c in call_ids)
    events = db.session.execute(select(ContactEvent.event_id, func.count(ContactEvent.id))
                                .where(ContactEvent.event_id.like(f"{switch.prefix}-%"))
                                .group_by(ContactEvent.event_id)).all()
    assert len(events) == 3 * switch.calls and {n for _, n in events} == {1}


def overdue_ticket(agent):
    """A complaint taken on a Friday afternoon in February: its first handling was due long ago."""
    from workflows import engine

    with clock.frozen_at(datetime(2026, 2, 13, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        return engine.start_ticket(COMPLAINT, agent)


def sla_kinds(ticket_id: int) -> list[str]:
    return db.session.scalars(select(SlaEvent.kind).where(SlaEvent.ticket_id == ticket_id)).all()


def wechat_conversation(openid: str) -> tuple:
    factories.chat_queue("wechat", "wechat", "微信客服")
    agent = factories.ready_agent("li", "wechat")
    row, _ = chats.receive(InboundMessage("wechat", openid, f"{openid}-1", "text", "异地就医备案怎么办？", clock.now()))
    return agent, db.session.get(Contact, row.contact_id)


def test_a_worker_killed_while_handing_a_reply_to_wechat_is_replaced_and_the_reply_arrives_once(platform):
    agent, conversation = wechat_conversation("oFault1")
    wechat = platform.wechat
    wechat.hold_next = True  # WeChat is slow to answer this one
    platform.worker()
    reply = chats.reply(agent, conversation, "可在国家医保服务平台 App 办理备案。", clock.now())
    assert wechat.held.wait(30), "the worker never handed the reply over"
    platform.workers[0].kill()  # mid-job: the work horse is waiting on WeChat
    wechat.release.set()
    db.session.rollback()
    assert db.session.get(ChatMessage, reply.id).send_state == "pending"  # nothing half-written
    platform.worker()  # the replacement, as systemd would start it
    row = wait_for(lambda: (m := db.session.get(ChatMessage, reply.id)).send_state == "sent" and m, 60,
                   "the reply sent by the replacement worker")
    assert wechat.sent == [{"touser": "oFault1", "msgtype": "text",
                            "text": {"content": "可在国家医保服务平台 App 办理备案。"}}]
    assert row.attempts == 1  # the killed attempt never committed; the resend is the one that counts
    SURVIVED.append("rq worker killed (SIGKILL) while its job waited on WeChat: the outbox queued the reply "
                    "again and a new worker delivered it exactly once")


def test_redis_killed_and_started_empty_loses_no_event_reply_or_timer_and_pushes_resume(platform):
    hotline = staff()  # agent1, the department's handlers and lead1
    ticket = overdue_ticket(hotline.agent)
    agent, conversation = wechat_conversation("oFault2")
    platform.web.start()
    worker = platform.worker()
    browser = sign_in(platform.web.url, "lead1")
    wait_for(lambda: "dispatch_overdue" in sla_kinds(ticket.id), 30, "the first sweep, before the fault")

    platform.redis.kill()  # everything Redis held is gone: queues, periodic marks, pub/sub
    switch = Switch(platform.web.url, platform.app.config["CTI_TOKEN"], 5, "redis-out")
    switch.start()
    # Stored; its job cannot be queued while Redis is away.
    reply = chats.reply(agent, conversation, "请携带医保电子凭证到窗口办理。", clock.now())
    assert browser.get(f"{platform.web.url}/inbox/", timeout=10).status_code == 200  # signed-in pages still work
    assert switch.done.wait(60), switch.answers
    assert set(switch.answers) == {200}  # the switch never even noticed: the database is the truth
    late = overdue_ticket(hotline.agent)  # a timer that falls due while Redis is away

    platform.redis.start()  # empty
    row = wait_for(lambda: (m := db.session.get(ChatMessage, reply.id)).send_state == "sent" and m, 60,
                   "the reply queued before the restart, delivered after it")
    assert [m["touser"] for m in platform.wechat.sent] == ["oFault2"]
    wait_for(lambda: "dispatch_overdue" in sla_kinds(late.id), 60, "the timer that fell due while Redis was away")
    assert sla_kinds(ticket.id).count("dispatch_overdue") == 1  # and the first one did not fire twice
    assert worker.running  # rq waited for Redis instead of dying
    assert worker.stop(15)  # and it still stops when asked (SIGTERM), as systemd asks it to
    assert_every_call_exactly_once(switch)

    heard: list[str] = []  # the wallboard's feed, reconnected as the browser's EventSource does
    stream = browser.get(f"{platform.web.url}/monitor/stream", stream=True, timeout=30)

    def listen() -> None:
        try:
            for line in stream.iter_lines(decode_unicode=True):
                heard.append(line)
        except (requests.RequestException, AttributeError):
            pass  # closed at the end of the story

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(1)
    from telephony_adapter import agents

    agents.set_state(agent.id, "not_ready", clock.now(), "break")
    wait_for(lambda: any(line.startswith("data:") and json.loads(line[5:]).get("user_id") == agent.id
                         and json.loads(line[5:]).get("state") == "not_ready" for line in heard), 15,
             "the wallboard hears the agent's state change after the restart")
    stream.close()
    assert row.attempts == 1
    SURVIVED.append("Redis killed and restarted empty: 15 call events applied once, the reply written meanwhile "
                    "delivered, a timer due meanwhile fired once, the worker reconnected, pushes resumed")


def test_the_web_processes_restart_under_the_switchs_traffic_and_every_event_is_applied_once(platform):
    factories.user("lead1", ["team_lead"])
    platform.web.start()
    browser = sign_in(platform.web.url, "lead1")
    switch = Switch(platform.web.url, platform.app.config["CTI_TOKEN"], 40, "web-restart", pause=0.1)
    switch.start()
    time.sleep(1)
    platform.web.stop()  # SIGTERM: gunicorn finishes the requests in hand
    platform.web.start()
    time.sleep(1)
    platform.web.kill()  # SIGKILL: a request in hand is lost mid-way; the switch tries it again
    platform.web.start()
    assert switch.done.wait(120), switch.answers
    assert switch.retries > 0  # the restarts were felt
    assert_every_call_exactly_once(switch)
    assert browser.get(f"{platform.web.url}/inbox/", timeout=10).status_code == 200  # still signed in
    SURVIVED.append(f"web processes stopped and killed under traffic: 120 call events, {switch.retries} retried by "
                    "the switch, each applied exactly once; signed-in users stayed signed in")


def test_a_brief_database_cut_answers_503_and_loses_nothing(platform, app):
    if platform.link is None:
        pytest.skip("SQLite is a file on this machine: there is no connection to cut (PostgreSQL in CI)")
    hotline = staff()
    platform.web.start()
    platform.worker()
    browser = sign_in(platform.web.url, "lead1")
    switch = Switch(platform.web.url, platform.app.config["CTI_TOKEN"], 30, "db-cut", pause=0.15)
    switch.start()
    time.sleep(1)
    platform.link.cut()
    late = overdue_ticket(hotline.agent)  # due while the platform cannot reach the database (written here, directly)
    page = browser.get(f"{platform.web.url}/inbox/", timeout=10)
    assert page.status_code == 503 and "系统暂时不可用" in page.text and page.headers["Retry-After"]
    time.sleep(3)
    platform.link.restore()
    assert switch.done.wait(120), switch.answers
    assert set(switch.answers) <= {0, 200, 503} and switch.answers.get(503, 0) > 0, switch.answers  # never a 500
    assert_every_call_exactly_once(switch)
    wait_for(lambda: "dispatch_overdue" in sla_kinds(late.id), 60, "the timer due during the cut, fired after it")
    assert browser.get(f"{platform.web.url}/inbox/", timeout=10).status_code == 200
    SURVIVED.append(f"database connection cut for 3 s: pages and the switch got 503 + Retry-After "
                    f"({switch.answers.get(503, 0)} times), 90 call events applied exactly once, the timer due "
                    "during the cut fired after it")
