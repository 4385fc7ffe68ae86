"""A citizen writes to the hotline's Weibo account: the fan-service platform's signed JSON pushes
reach /channels/weibo, and the agent's reply goes to a local server speaking its reply API."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatMessage, Contact
from tests import factories
from workflows import clock

SECRET = "weibo-app-secret"  # noqa: S105 - the test account's own


def signed(timestamp: str = "1796459000", nonce: str = "w1") -> dict:
    signature = hashlib.sha1("".join(sorted([SECRET, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


@pytest.fixture
def weibo(app):
    """Weibo configured, with a local reply API that records what it was sent (or refuses)."""
    state = {"sent": [], "error": None}

    class ReplyApi(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the library's name
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            if self.path != "/2/messages/reply.json" or form.get("access_token") != ["wb-token"]:
                body = {"error_code": 21332, "error": "invalid_access_token"}
            elif state["error"]:
                body = {"error_code": state["error"], "error": "refused"}
            else:
                state["sent"].append({k: v[0] for k, v in form.items()})
                body = {"result": True}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ReplyApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config.update(WEIBO_APP_SECRET=SECRET, WEIBO_ACCESS_TOKEN="wb-token",  # noqa: S106
                      WEIBO_API_BASE=f"http://127.0.0.1:{server.server_port}")
    yield state
    server.shutdown()
    app.config.update(WEIBO_APP_SECRET=None, WEIBO_ACCESS_TOKEN=None)


def push(client, body, query=None):
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post("/channels/weibo", query_string=query or signed(), data=data, content_type="application/json")


def message(text: str, sender: str = "5612345678", created: str = "Sat Dec 05 09:10:00 +0800 2026", **extra):
    return {"type": "text", "receiver_id": "7000000001", "sender_id": sender, "created_at": created, "text": text,
            "data": {}, **extra}


def test_weibo_checks_the_url_and_a_private_message_opens_a_conversation_once(client, weibo):
    check = client.get("/channels/weibo", query_string={**signed(), "echostr": "hello"})
    assert (check.status_code, check.get_data(as_text=True)) == (200, "hello")
    assert client.get("/channels/weibo", query_string={**signed(), "signature": "0" * 40}).status_code == 403
    assert push(client, message("医保卡怎么激活？")).status_code == 200
    push(client, message("医保卡怎么激活？"))  # Weibo retried
    push(client, message("我在外地。", created="Sat Dec 05 09:10:30 +0800 2026"))
    rows = db.session.scalars(select(ChatMessage).order_by(ChatMessage.id)).all()
    assert [r.text for r in rows] == ["医保卡怎么激活？", "我在外地。"]
    conversation = db.session.get(Contact, rows[0].contact_id)
    assert (conversation.channel, conversation.party, rows[1].contact_id) == ("weibo", "5612345678", conversation.id)
    assert rows[0].created_at.isoformat().startswith("2026-12-05T01:10:00")  # +0800 read as such


def test_unknown_types_are_ignored_and_bad_pushes_refused_with_nothing_stored(client, weibo):
    assert push(client, message("x", type="sticker")).status_code == 200
    assert push(client, b"{not json").status_code == 400
    assert push(client, {"type": "text", "text": "no sender"}).status_code == 400
    assert push(client, message("伪造"), {**signed(), "signature": "f" * 40}).status_code == 403
    assert push(client, b"[" + b"1," * 40_000 + b"1]").status_code == 413
    assert db.session.scalar(select(func.count(ChatMessage.id))) == 0


def test_the_agents_reply_goes_out_through_the_reply_api_and_a_revoked_token_fails_at_once(client, weibo, monkeypatch):
    from telephony_adapter import chats

    factories.chat_queue("weibo", "weibo", "微博客服")
    agent = factories.ready_agent("li", "weibo")
    push(client, message("异地就医备案要多久？", sender="5600000002"))
    conversation = db.session.scalar(select(Contact))
    assert conversation.agent_id == agent.id  # given to the ready agent with the skill
    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: None)  # the job runs here
    row = chats.reply(agent, conversation, "一般当天办结。", clock.now())
    assert chats.send(row.id, clock.now()) == "sent"
    weibo["error"] = 21327  # expired token: retrying cannot help
    second = chats.reply(agent, conversation, "还有其他问题吗？", clock.now())
    assert chats.send(second.id, clock.now()) == "failed"
    [sent] = weibo["sent"]
    assert (sent["receiver_id"], sent["type"]) == ("5600000002", "text")
    assert json.loads(sent["data"]) == {"text": "一般当天办结。"}
    db.session.expire_all()
    assert "21327" in db.session.get(ChatMessage, second.id).error
