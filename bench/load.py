"""Load test: a 150-seat hotline's working day, compressed, against the platform run as in production.

    DATABASE_URL=postgresql://postgres@127.0.0.1/hotline_bench_load .venv/bin/python bench/load.py \
        [--agents 150] [--handlers 10] [--calls-per-hour 1000] [--chats-per-hour 240] [--minutes 10]

The platform: gunicorn (`--web-workers` × `--threads`, gthread) and `--rq-workers` rq workers on
DATABASE_URL (a temporary SQLite file when unset) and REDIS_URL (an embedded Redis when unset).
The people, each a thread speaking HTTP as their browser or system does:
- the switch: calls arriving at random (Poisson, `--calls-per-hour`) through /cti/events —
  incoming, the voice menu's key, queued; answered when the offered agent picks up; hung up when
  the agent is done; a satisfaction key after most calls. A caller nobody answers within 60 s hangs up.
- `--agents` agents: signed in, holding their event stream (/calls/stream) and 示闲. An offer on
  the stream is answered: the screen pop, the intake form, a talk of `--talk` seconds, the ticket
  recorded (dispatched to a department, or answered on the spot), 整理, 示闲 again. A chat offered
  on the stream is read and answered, then closed. Between contacts they open their inbox and
  work what is theirs: reviewing returns, replying to citizens, claiming and making callbacks.
- citizens writing on the web chat (`--chats-per-hour`): a message, waiting for the answer, a rating.
- `--handlers` department handlers: every few seconds their department's inbox; each ticket is
  accepted (签收) and returned (返单) with a result.

At the end, everything is accounted for from the database: every call exactly one contact, every
call event exactly one receipt, every intake exactly one ticket, every citizen message exactly one
row, every agent reply delivered; the audit chain verified. The last line is one JSON object with
`requests`, `errors`, `p95_ms`, `lost`, `duplicated` and the rest of the figures. The database is
emptied of contacts and presence first: give it a database of its own."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accounts import ensure_user  # noqa: E402 - after the path is set

PASSWORD = "Bench12393!"  # noqa: S105 - the benchmark's own generated accounts
DEPARTMENTS = [("LDY", "待遇保障科"), ("LJJ", "基金监管科"), ("LYY", "医药服务科"), ("LJB", "经办服务中心"),
               ("LCG", "城关区医疗保障局")]
CATEGORIES = ["consultation", "help", "complaint", "suggestion", "business"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TASK_LINK = re.compile(r'class="button small primary" href="(/tickets/\d+/tasks/[^"]+)"')
CLAIM = re.compile(r'action="(/inbox/tasks/[^"]+/claim)"')
CALLER_GIVES_UP = 60.0
rng = random.Random(12393)  # noqa: S311 - a load pattern, not a secret
lock = threading.Lock()


class Record:
    """Every request's time and outcome, by kind (page: HTML a person waits for; api: JSON and the switch)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.routes: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []
        self.count = 0
        self.measuring = False  # the sign-ins before the load are not part of the figures

    def call(self, session: requests.Session, method: str, url: str, kind: str, ok=(200,), **kwargs):
        started = time.monotonic()
        try:
            answer = session.request(method, url, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self._error(f"{method} {_path(url)}: {type(exc).__name__}")
            return None
        elapsed = (time.monotonic() - started) * 1000
        if self.measuring and not stop.is_set():
            with lock:
                self.count += 1
                self.times[kind].append(elapsed)
                self.routes[f"{method} {_path(url)}"].append(elapsed)
        if answer.status_code not in ok:
            self._error(f"{method} {_path(url)} → {answer.status_code}: {answer.text[:160]!r}")
        return answer

    def _error(self, what: str) -> None:
        if stop.is_set():
            return  # the shift is over: the processes are being stopped
        with lock:
            self.errors[what.split(":")[0]] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(what)


def _path(url: str) -> str:
    path = re.sub(r"https?://[^/]+", "", url).split("?")[0]
    return re.sub(r"/\d+", "/<id>", re.sub(r"/tasks/[^/]+", "/tasks/<task>", path))


record = Record()
stop = threading.Event()


# --- preparation ------------------------------------------------------------------------------------


def prepare(agents: int, handlers: int) -> dict:
    from sqlalchemy import delete, select

    from app import create_app
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import (
        AgentPresence,
        AgentStateLog,
        CallQueue,
        ChatMessage,
        Contact,
        ContactEvent,
        Department,
        Skill,
        UserSkill,
    )
    from app.setup import apply_migrations, publish_shipped_processes
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        apply_migrations()
        publish_shipped_processes()
        for model in (ChatMessage, ContactEvent, AgentStateLog, AgentPresence, Contact):
            db.session.execute(delete(model))
        skills = {}
        for code, name, queue_code, digit in (("load_phone", "医保咨询（话务）", "load_phone", "1"),
                                              ("load_chat", "在线客服", "web_chat", None)):
            skill = db.session.scalar(select(Skill).where(Skill.code == code)) or Skill(code=code, name=name)
            db.session.add(skill)
            db.session.flush()
            skills[code] = skill
            for old in db.session.scalars(select(CallQueue).where(CallQueue.code == queue_code)):
                db.session.delete(old)
            db.session.flush()
            db.session.add(CallQueue(code=queue_code, name=name, skill_id=skill.id, min_level=1, ivr_digit=digit))
        departments = []
        for code, name in DEPARTMENTS:
            department = db.session.scalar(select(Department).where(Department.code == code))
            if department is None:
                department = Department(code=code, name=name, kind="section")
                db.session.add(department)
                db.session.flush()
            departments.append(department)
        password = hash_password(PASSWORD)
        agent_names = [f"load_agent_{n:03d}" for n in range(agents)]
        for name in agent_names:
            user = ensure_user(name, "agent", password)
            for skill in skills.values():
                if not db.session.scalar(select(UserSkill).where(UserSkill.user_id == user.id,
                                                                 UserSkill.skill_id == skill.id)):
                    db.session.add(UserSkill(user_id=user.id, skill_id=skill.id, level=3))
        handler_names = []
        for n in range(handlers):
            name = f"load_handler_{n:02d}"
            user = ensure_user(name, "dept_handler", password)
            user.departments = [departments[n % len(departments)]]
            handler_names.append(name)
        db.session.commit()
        return {"agents": agent_names, "handlers": handler_names, "departments": [d.id for d in departments]}


# --- the people -------------------------------------------------------------------------------------


def sign_in(base: str, username: str) -> tuple[requests.Session, str]:
    """The morning's sign-in (before the measured load): tried again a few times if the crowd at the
    door makes it time out."""
    for _ in range(5):
        session = requests.Session()
        page = record.call(session, "GET", f"{base}/login", "page")
        if page is None or page.status_code != 200:
            time.sleep(2)
            continue
        answer = record.call(session, "POST", f"{base}/login", "page", data={
            "csrf_token": CSRF.search(page.text).group(1), "username": username, "password": PASSWORD})
        if answer is not None and answer.status_code == 200 and "/login" not in answer.url:
            return session, CSRF.search(answer.text).group(1)
        time.sleep(2)
    raise RuntimeError(f"{username} could not sign in")


def form_for(page: str) -> dict | None:
    """What a person fills in on the task form they opened, by the task it is."""
    if 'name="review_decision"' in page:
        return {"review_decision": "accept", "review_comment": "办理结果属实。"}
    if 'name="reply_method"' in page or 'name="reply"' in page:
        return {"reply": "您反映的问题已由承办部门处理完毕。", "reply_method": "phone"}
    if 'name="satisfaction"' in page:
        return {"satisfaction": rng.choice(["satisfied", "satisfied", "basically_satisfied"]),
                "callback_note": "已回访。"}
    if 'name="accept_decision"' in page:
        return {"accept_decision": "accept"}
    if 'name="handle_action"' in page:
        return {"handle_action": "return", "result": "已核实并按政策办理，结果已告知。"}
    return None


class Person(threading.Thread):
    def __init__(self, base: str, username: str, counts: Counter) -> None:
        super().__init__(daemon=True, name=username)
        self.base, self.username, self.counts = base, username, counts
        self.session: requests.Session | None = None
        self.csrf = ""

    def post_form(self, path: str, data: dict, ok=(302,)):
        return record.call(self.session, "POST", f"{self.base}{path}", "page", ok=ok,
                           data={"csrf_token": self.csrf, **data}, allow_redirects=False)

    def work_inbox(self, view: str, limit: int) -> None:
        page = record.call(self.session, "GET", f"{self.base}/inbox/?view={view}", "page")
        if page is None or page.status_code != 200:
            return
        for link in TASK_LINK.findall(page.text)[:limit]:
            task = record.call(self.session, "GET", f"{self.base}{link}", "page", ok=(200, 302, 403, 404))
            if task is None or task.status_code != 200:
                continue  # someone else's already (a colleague took it a moment ago)
            data = form_for(task.text)
            if data is not None:
                answer = self.post_form(link, data, ok=(302,))
                if answer is not None and answer.status_code == 302:
                    with lock:
                        self.counts[f"steps_{view}"] += 1


class Agent(Person):
    """A seat: the event stream, the calls and chats it brings, the inbox between them."""

    def __init__(self, base: str, username: str, counts: Counter, switch, talk: tuple[float, float],
                 departments: list[int]) -> None:
        super().__init__(base, username, counts)
        self.switch, self.talk, self.departments = switch, talk, departments
        self.events: queue.Queue = queue.Queue()
        self.chats_done: set[int] = set()
        self.ready = threading.Event()

    def listen(self) -> None:
        """The agent bar's EventSource: reconnects after 2 s whenever the stream ends."""
        while not stop.is_set():
            try:
                stream = self.session.get(f"{self.base}/calls/stream", stream=True, timeout=(10, 60))
                kind = None
                for line in stream.iter_lines(decode_unicode=True):
                    if stop.is_set():
                        break
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "offer":
                        # The phone rings and is picked up at once, whatever the agent is typing;
                        # the screen pop and the intake follow when their hands are free.
                        contact_id = json.loads(line[6:])["contact_id"]
                        threading.Thread(target=self.pick_up, args=(contact_id,), daemon=True).start()
                    elif line.startswith("data: ") and kind == "chat":
                        self.events.put((kind, json.loads(line[6:]), time.monotonic()))
            except (requests.RequestException, ValueError):
                pass
            time.sleep(2)

    def state(self, state: str) -> None:
        record.call(self.session, "POST", f"{self.base}/calls/presence", "api", ok=(200,), data={"state": state},
                    headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})

    def run(self) -> None:
        self.session, self.csrf = sign_in(self.base, self.username)
        threading.Thread(target=self.listen, daemon=True).start()
        time.sleep(1.0)
        self.state("ready")
        self.ready.set()
        next_inbox = time.monotonic() + rng.uniform(10, 60)
        while not stop.is_set():
            try:
                kind, data, _ = self.events.get(timeout=max(0.1, next_inbox - time.monotonic()))
            except queue.Empty:
                self.work_inbox("mine", 2)
                if rng.random() < 0.3:
                    self.claim_callback()
                next_inbox = time.monotonic() + rng.uniform(30, 60)
                continue
            if kind == "call":
                self.take_call(data["contact_id"])
            elif kind == "chat" and data["contact_id"] not in self.chats_done:
                self.take_chat(data["contact_id"])

    def pick_up(self, contact_id: int) -> None:
        time.sleep(rng.uniform(1, 3))  # two rings
        if self.switch.answer(contact_id):
            self.events.put(("call", {"contact_id": contact_id}, time.monotonic()))

    def take_call(self, contact_id: int) -> None:
        record.call(self.session, "GET", f"{self.base}/calls/contacts/{contact_id}/pop", "page")
        form = record.call(self.session, "GET", f"{self.base}/tickets/new?contact={contact_id}&channel=phone", "page")
        time.sleep(rng.uniform(*self.talk))
        marker = self.switch.marker(contact_id)
        on_spot = rng.random() < 0.3
        data = {"channel": "phone", "category": rng.choice(CATEGORIES), "urgency": "normal",
                "subject": f"[{marker}] 异地就医报销进度咨询", "content": f"来电人咨询报销进度，请核查。[{marker}]",
                "caller_phone": self.switch.caller(contact_id), "caller_name": "来电人", "contact_id": str(contact_id),
                "handling": "on_spot" if on_spot else "dispatch"}
        if on_spot:
            data["reply"] = "已当场告知办理流程。"
        else:
            data["department_id"] = str(rng.choice(self.departments))
        if form is not None and form.status_code == 200:
            answer = self.post_form("/tickets/new", data, ok=(302,))
            if answer is not None and answer.status_code == 302:
                with lock:
                    self.counts["intakes"] += 1
                    self.switch.intakes.add(marker)
        self.switch.hang_up(contact_id)
        time.sleep(rng.uniform(3, 10))  # 整理
        self.state("ready")

    def take_chat(self, contact_id: int) -> None:
        self.chats_done.add(contact_id)
        page = record.call(self.session, "GET", f"{self.base}/chats/?c={contact_id}", "page")
        if page is None or page.status_code != 200:
            return
        time.sleep(rng.uniform(2, 6))  # reading and typing
        answer = record.call(self.session, "POST", f"{self.base}/chats/{contact_id}/reply", "api", ok=(200,),
                             data={"csrf_token": self.csrf, "text": "您好，异地就医备案可在国家医保服务平台 App 办理。"},
                             headers={"Accept": "application/json"})
        if answer is not None and answer.status_code == 200:
            with lock:
                self.counts["chat_replies"] += 1
                self.switch.replies.add(answer.json()["id"])
        time.sleep(rng.uniform(5, 15))
        self.post_form(f"/chats/{contact_id}/end", {})

    def claim_callback(self) -> None:
        page = record.call(self.session, "GET", f"{self.base}/inbox/?view=pool", "page")
        if page is not None and page.status_code == 200:
            for action in CLAIM.findall(page.text)[:1]:
                self.post_form(action, {})


class Handler(Person):
    def run(self) -> None:
        self.session, self.csrf = sign_in(self.base, self.username)
        time.sleep(rng.uniform(0, 10))
        while not stop.is_set():
            self.work_inbox("department", 4)
            stop.wait(rng.uniform(8, 15))


class Citizen(threading.Thread):
    """A web-chat visitor: one question, the answer awaited (as the page's stream would bring it), a rating."""

    def __init__(self, base: str, n: int, run_id: str, sent: list) -> None:
        super().__init__(daemon=True)
        self.base, self.n, self.run_id, self.sent = base, n, run_id, sent

    def run(self) -> None:
        session = requests.Session()
        page = record.call(session, "GET", f"{self.base}/chat/", "page")
        if page is None or page.status_code != 200:
            return
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        headers = {"X-CSRFToken": token}
        key = f"{self.run_id}-m{self.n}"
        answer = record.call(session, "POST", f"{self.base}/chat/send", "api", headers=headers,
                             json={"text": f"请问异地就医怎么备案？（{key}）", "id": key})
        if answer is None or answer.status_code != 200:
            return
        with lock:
            self.sent.append(key)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stop.is_set():
            time.sleep(3)
            history = record.call(session, "GET", f"{self.base}/chat/history", "api")
            if history is not None and history.status_code == 200 and any(
                    m["direction"] == "out" for m in history.json()["messages"]):
                record.call(session, "POST", f"{self.base}/chat/rate", "api", ok=(200, 409), headers=headers,
                            json={"rating": "satisfied"})
                return


class Switch:
    """The telephone switch: calls in, reported through /cti/events as a real switch would."""

    def __init__(self, base: str, token: str, run: str) -> None:
        self.base, self.run = base, run
        self.token = token
        self.local = threading.local()  # a session per thread, as each call's leg is its own connection
        self.calls: dict[int, dict] = {}  # contact id → the call
        self.placed: list[str] = []
        self.events: list[str] = []
        self.answered, self.abandoned = 0, 0
        self.intakes: set[str] = set()
        self.replies: set[int] = set()
        self.waits: list[float] = []
        self.ids = itertools.count()

    def post(self, call_id: str, kind: str, data: dict | None = None, retries: int = 3) -> dict | None:
        body = {"source": "loadpbx", "event_id": f"{call_id}-{kind}", "kind": kind, "call_id": call_id,
                "at": datetime.now(UTC).isoformat(), "data": data or {}}
        with lock:
            self.events.append(body["event_id"])
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.token}"
        for _ in range(retries):  # the same event id each time: a retry is a duplicate, harmless
            answer = record.call(self.local.session, "POST", f"{self.base}/cti/events", "api", json=body)
            if answer is not None and answer.status_code == 200:
                return answer.json()
            time.sleep(1)
        return None

    def place(self) -> None:
        n = next(self.ids)
        call_id = f"{self.run}-c{n}"
        caller = f"139{n:08d}"[:11]
        with lock:
            self.placed.append(call_id)
        self.post(call_id, "incoming", {"caller": caller, "dialled": "12393"})
        self.post(call_id, "ivr", {"digit": "1"})
        queued = self.post(call_id, "queued")
        if queued is None or queued.get("contact") is None:
            return
        call = {"call_id": call_id, "caller": caller, "picked": threading.Event(), "done": threading.Event(),
                "queued_at": time.monotonic(), "gone": False}
        with lock:
            self.calls[queued["contact"]["id"]] = call
        if not call["picked"].wait(CALLER_GIVES_UP):
            with lock:
                call["gone"] = True
                self.abandoned += 1
            self.post(call_id, "hangup", {"cause": "caller_abandoned"})
            return
        call["done"].wait(600)
        self.post(call_id, "hangup", {"cause": "normal"})
        if rng.random() < 0.6:
            self.post(call_id, "survey_result", {"score": rng.choice([1, 1, 1, 2, 3])}, retries=3)

    def _call(self, contact_id: int) -> dict | None:
        for _ in range(50):  # the offer may outrun the `queued` answer by a moment
            with lock:
                call = self.calls.get(contact_id)
            if call is not None:
                return call
            time.sleep(0.1)
        return None

    def answer(self, contact_id: int) -> bool:
        call = self._call(contact_id)
        with lock:
            if call is None or call["gone"] or call["picked"].is_set():
                return False
            call["picked"].set()
            self.answered += 1
            self.waits.append(time.monotonic() - call["queued_at"])
        self.post(call["call_id"], "answered")
        return True

    def marker(self, contact_id: int) -> str:
        return self.calls[contact_id]["call_id"]

    def caller(self, contact_id: int) -> str:
        return self.calls[contact_id]["caller"]

    def hang_up(self, contact_id: int) -> None:
        self.calls[contact_id]["done"].set()


def arrivals(per_hour: float, seconds: float, start) -> list[threading.Thread]:
    """Poisson arrivals at `per_hour`, each started in its own thread."""
    threads, ends = [], time.monotonic() + seconds
    while not stop.is_set():
        time.sleep(rng.expovariate(per_hour / 3600))
        if time.monotonic() >= ends:
            break
        thread = start()
        threads.append(thread)
    return threads


# --- accounting -------------------------------------------------------------------------------------


def account(switch: Switch, chat_keys: list[str]) -> dict:
    """Every contact, event, ticket and message the load created, counted in the database."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import ChatMessage, Contact, ContactEvent, Ticket
    from config import config_from_env
    from workflows.audit_trail import verify

    app = create_app(config_from_env())
    with app.app_context():
        contacts = Counter(dict(db.session.execute(
            select(Contact.call_id, func.count(Contact.id)).where(Contact.call_id.like(f"{switch.run}-c%"))
            .group_by(Contact.call_id)).all()))
        receipts = Counter(dict(db.session.execute(
            select(ContactEvent.event_id, func.count(ContactEvent.id)).where(ContactEvent.event_id.like(f"{switch.run}-c%"))
            .group_by(ContactEvent.event_id)).all()))
        subjects = Counter()
        for subject, count in db.session.execute(select(Ticket.subject, func.count(Ticket.id))
                                                 .where(Ticket.subject.like(f"[{switch.run}-c%"))
                                                 .group_by(Ticket.subject)).all():
            subjects[subject[1:subject.index("]")]] = count
        messages = Counter()
        for external_id, count in db.session.execute(select(ChatMessage.external_id, func.count(ChatMessage.id))
                                                     .where(ChatMessage.source == "web", ChatMessage.direction == "in")
                                                     .group_by(ChatMessage.external_id)).all():
            messages[external_id.split(":", 1)[1]] += count
        replies = Counter(dict(db.session.execute(
            select(ChatMessage.send_state, func.count(ChatMessage.id))
            .where(ChatMessage.id.in_(list(switch.replies) or [0])).group_by(ChatMessage.send_state)).all()))
        states = Counter(dict(db.session.execute(
            select(Ticket.status, func.count(Ticket.id)).where(Ticket.subject.like(f"[{switch.run}-c%"))
            .group_by(Ticket.status)).all()))
        chain = verify()

    expected_events = set(switch.events)
    rows = {
        "calls": _lost_and_duplicated(switch.placed, contacts),
        "call_events": _lost_and_duplicated(expected_events, receipts),
        "tickets": _lost_and_duplicated(switch.intakes, subjects),
        "chat_messages": _lost_and_duplicated(chat_keys, messages),
    }
    return {"rows": rows, "replies": dict(replies), "ticket_states": dict(states),
            "audit_chain_ok": chain.ok, "audit_entries": chain.checked, "audit_problems": chain.problems[:5]}


def _lost_and_duplicated(expected, found: Counter) -> dict:
    expected = set(expected)
    return {"expected": len(expected), "lost": sum(1 for key in expected if found.get(key, 0) == 0),
            "duplicated": sum(found[key] - 1 for key in expected if found.get(key, 0) > 1)}


# --- the run ----------------------------------------------------------------------------------------


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return round(values[0], 1) if values else 0.0
    return round(statistics.quantiles(values, n=100)[share - 1], 1)


def main() -> None:  # noqa: PLR0915 - one run, told in order
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--handlers", type=int, default=10)
    parser.add_argument("--calls-per-hour", type=float, default=1000)
    parser.add_argument("--chats-per-hour", type=float, default=240)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--talk", type=float, nargs=2, default=(20, 60), metavar=("MIN", "MAX"))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=128)
    parser.add_argument("--rq-workers", type=int, default=2)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-load-"))
    os.environ.setdefault("HOTLINE_INSTANCE_PATH", str(folder))
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-load-secret")
    os.environ.setdefault("HOTLINE_CTI_TOKEN", "bench-load-switch-token")
    os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from app.redis_client import EmbeddedRedis

        embedded = EmbeddedRedis(folder)
        os.environ["REDIS_URL"] = embedded.start()
    people = prepare(args.agents, args.handlers)

    from tests.platform_processes import Web, Worker  # the same process helpers as the fault stories

    env = dict(os.environ)
    web = Web(env, folder / "web.log", workers=args.web_workers, threads=args.threads).start()
    workers = [Worker(env, folder / f"worker-{n}.log").start() for n in range(args.rq_workers)]
    run = f"L{uuid.uuid4().hex[:6]}"
    counts: Counter = Counter()
    switch = Switch(web.url, env["HOTLINE_CTI_TOKEN"], run)
    chat_keys: list[str] = []
    try:
        agents = [Agent(web.url, name, counts, switch, tuple(args.talk), people["departments"])
                  for name in people["agents"]]
        handlers = [Handler(web.url, name, counts) for name in people["handlers"]]
        for person in [*agents, *handlers]:
            person.start()
            time.sleep(0.1)  # people arrive over a quarter of a minute, not in the same instant
        deadline = time.monotonic() + 180
        for agent in agents:
            agent.ready.wait(max(0.0, deadline - time.monotonic()))
        ready = sum(agent.ready.is_set() for agent in agents)
        if ready < len(agents):
            raise SystemExit(f"only {ready} of {len(agents)} agents signed in: {dict(record.errors)} "
                             f"{record.error_samples[:5]}")
        record.measuring = True
        print(f"{len(agents)} agents and {len(handlers)} handlers signed in and ready; "
              f"{args.minutes} minutes of load begin", flush=True)
        started = time.monotonic()
        seconds = args.minutes * 60
        chat_numbers = itertools.count()
        placing = threading.Thread(target=arrivals, daemon=True, args=(args.calls_per_hour, seconds, lambda: _start(
            threading.Thread(target=switch.place, daemon=True))))
        chatting = threading.Thread(target=arrivals, daemon=True, args=(args.chats_per_hour, seconds, lambda: _start(
            Citizen(web.url, next(chat_numbers), run, chat_keys))))
        placing.start()
        chatting.start()
        while time.monotonic() - started < seconds:
            time.sleep(30)
            print(f"  {int(time.monotonic() - started)} s: {record.count} requests, {sum(record.errors.values())} "
                  f"errors, {len(switch.placed)} calls ({switch.answered} answered), {len(chat_keys)} chats",
                  flush=True)
        placing.join()
        chatting.join()
        drain = time.monotonic() + max(120, args.talk[1] * 2)
        while time.monotonic() < drain and any(not c["done"].is_set() and c["picked"].is_set() and not c["gone"]
                                                for c in list(switch.calls.values())):
            time.sleep(1)  # calls in progress are finished, as at the end of a shift
        time.sleep(10)
        elapsed = time.monotonic() - started
        stop.set()
        deadline = time.monotonic() + 20  # what people are in the middle of ends, as the shift does
        for person in [*agents, *handlers]:
            person.join(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        stop.set()
        web.stop(10)
        for worker in workers:
            worker.stop(10)
        if embedded is not None:
            embedded.stop()
    result = account(switch, chat_keys)
    all_times = [t for times in record.times.values() for t in times]
    lost = sum(r["lost"] for r in result["rows"].values())
    duplicated = sum(r["duplicated"] for r in result["rows"].values())
    figures = {
        "agents": args.agents, "handlers": args.handlers, "minutes": args.minutes,
        "calls": len(switch.placed), "calls_answered": switch.answered, "calls_abandoned": switch.abandoned,
        "answer_wait_p95_s": percentile(switch.waits, 95), "chats": len(chat_keys),
        "tickets": len(switch.intakes), "chat_replies": counts["chat_replies"],
        "inbox_steps": {"agents": counts["steps_mine"], "departments": counts["steps_department"]},
        "requests": record.count, "requests_per_s": round(record.count / elapsed, 1),
        "errors": sum(record.errors.values()),
        "p95_ms": percentile(all_times, 95), "page_p95_ms": percentile(record.times["page"], 95),
        "api_p95_ms": percentile(record.times["api"], 95), "page_p50_ms": percentile(record.times["page"], 50),
        "api_p50_ms": percentile(record.times["api"], 50),
        "lost": lost, "duplicated": duplicated, "accounted": result["rows"],
        "replies_delivered": result["replies"].get("sent", 0), "ticket_states": result["ticket_states"],
        "slowest_routes_p95_ms": dict(sorted(((route, percentile(times, 95)) for route, times in record.routes.items()
                                              if len(times) >= 20), key=lambda item: -item[1])[:5]),
        "audit_chain_ok": result["audit_chain_ok"], "audit_entries_verified": result["audit_entries"],
        "database": "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
    }
    if record.errors:
        print("errors:", dict(record.errors.most_common(10)))
        for sample in record.error_samples[:10]:
            print("  ", sample)
    if result["audit_problems"]:
        print("audit chain:", result["audit_problems"])
    print(f"{figures['calls']} calls ({figures['calls_answered']} answered, {figures['calls_abandoned']} abandoned), "
          f"{figures['chats']} chats, {figures['tickets']} tickets in {elapsed:.0f} s")
    print(f"{figures['requests']} requests ({figures['requests_per_s']}/s), {figures['errors']} errors; p95 page "
          f"{figures['page_p95_ms']} ms, api {figures['api_p95_ms']} ms; lost {lost}, duplicated {duplicated}")
    print(json.dumps(figures, ensure_ascii=False))


def _start(thread: threading.Thread) -> threading.Thread:
    thread.start()
    return thread


if __name__ == "__main__":
    main()
