"""A citizen chats on the hotline's web page (no account): the message reaches an agent, the reply
is pushed to the page, and after the agent ends the chat the citizen rates it once."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ChatMessage, Contact
from tests import factories
from workflows import clock


@pytest.fixture
def web_desk(app):
    factories.chat_queue("web_chat", "webchat", "网页客服")
    return factories.ready_agent("li", "webchat")


def page_token(client) -> str:
    page = client.get("/chat/")
    assert page.status_code == 200 and "在线客服" in page.get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)


def say(client, token: str, text: str, key: str):
    return client.post("/chat/send", json={"text": text, "id": key}, headers={"X-CSRFToken": token})


def test_a_visitor_writes_the_agent_gets_the_conversation_and_a_retried_send_is_stored_once(client, web_desk):
    token = page_token(client)
    assert say(client, token, "你好，我想咨询生育津贴。", "k1").status_code == 200
    assert say(client, token, "你好，我想咨询生育津贴。", "k1").get_json()["new"] is False  # the page retried
    conversation = db.session.scalar(select(Contact).where(Contact.channel == "web"))
    assert (conversation.agent_id, conversation.state, conversation.queue.code) == (web_desk.id, "talking", "web_chat")
    assert [m.text for m in db.session.scalars(select(ChatMessage))] == ["你好，我想咨询生育津贴。"]
    history = client.get("/chat/history").get_json()
    assert history["state"] == "talking" and [m["direction"] for m in history["messages"]] == ["in"]


def test_bad_sends_are_refused_clearly(client, web_desk):
    token = page_token(client)
    assert client.post("/chat/send", json={"text": "无令牌", "id": "k"}).status_code == 400  # CSRF
    assert say(client, token, "   ", "k2").status_code == 422
    assert say(client, token, "长" * 1001, "k3").status_code == 422
    assert client.post("/chat/send", data="not json", headers={"X-CSRFToken": token}).status_code == 400
    assert db.session.scalar(select(ChatMessage.id)) is None


def test_the_reply_is_pushed_to_the_page_and_the_ended_chat_is_rated_once(client, web_desk, monkeypatch):
    from app.redis_client import get_redis
    from telephony_adapter import chats

    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: None)
    token = page_token(client)
    say(client, token, "生育津贴怎么申领？", "k1")
    conversation = db.session.scalar(select(Contact).where(Contact.channel == "web"))
    listener = get_redis().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(chats.visitor_channel("web", conversation.party))
    listener.get_message(timeout=1)  # the subscription's own confirmation (returned as None)
    row = chats.reply(web_desk, conversation, "由用人单位在线申报。", clock.now())
    assert chats.send(row.id, clock.now()) == "sent"
    pushed = listener.get_message(timeout=2)
    assert json.loads(pushed["data"]) == {"kind": "reply", "message_id": row.id, "text": "由用人单位在线申报。"}
    assert client.post("/chat/rate", json={"rating": "satisfied"}, headers={"X-CSRFToken": token}).status_code == 409
    chats.end(web_desk, db.session.get(Contact, conversation.id), clock.now())
    assert json.loads(listener.get_message(timeout=2)["data"])["kind"] == "ended"
    listener.close()
    assert client.get("/chat/history").get_json()["state"] == "ended"
    assert client.post("/chat/rate", json={"rating": "great"}, headers={"X-CSRFToken": token}).status_code == 400
    thanks = client.post("/chat/rate", json={"rating": "basic"}, headers={"X-CSRFToken": token})
    assert thanks.status_code == 200 and thanks.get_json()["message"] == "感谢您的评价！"
    again = client.post("/chat/rate", json={"rating": "dissatisfied"}, headers={"X-CSRFToken": token})
    assert again.status_code == 409
    db.session.expire_all()
    assert db.session.get(Contact, conversation.id).chat_rating == "basic"


def test_the_agent_turns_the_chat_into_a_ticket_with_its_transcript_and_the_rating_reaches_it(
        client, web_desk, auth, monkeypatch):
    """转为工单: the intake is filled from what the citizen wrote; the recorded ticket carries the
    transcript as an attachment; the citizen's rating after the chat is the ticket's satisfaction."""
    from app.models import Attachment, Ticket
    from app.tickets import attachments
    from telephony_adapter import chats

    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: None)
    visitor = page_token(client)
    say(client, visitor, "生育津贴什么时候到账？", "k1")
    say(client, visitor, "我是三月份生的孩子。", "k2")
    conversation = db.session.scalar(select(Contact).where(Contact.channel == "web"))
    chats.reply(web_desk, conversation, "一般在申报后 15 个工作日内到账。", clock.now())
    visitor_cookie = client.get_cookie("hotline_session").value
    auth.login("li")
    form_page = client.get(f"/tickets/new?contact={conversation.id}&channel=web").get_data(as_text=True)
    assert "生育津贴什么时候到账？" in form_page and "我是三月份生的孩子。" in form_page
    from tests.conftest import csrf_token

    response = client.post("/tickets/new", data={
        "csrf_token": csrf_token(client, "/tickets/new"), "contact_id": conversation.id, "channel": "web",
        "category": "consultation", "urgency": "normal", "subject": "生育津贴到账时间",
        "content": "生育津贴什么时候到账？我是三月份生的孩子。", "handling": "on_spot",
        "reply": "一般在申报后 15 个工作日内到账。"})
    assert response.status_code == 302
    db.session.expire_all()
    conversation = db.session.get(Contact, conversation.id)
    ticket = db.session.get(Ticket, conversation.ticket_id)
    [attached] = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
    assert attached.filename == f"会话记录-{conversation.id}.txt"
    text = attachments.path_for(attached.sha256).read_text()
    assert "市民：生育津贴什么时候到账？" in text and "坐席：一般在申报后 15 个工作日内到账。" in text
    chats.end(web_desk, conversation, clock.now())
    auth.logout()
    client.set_cookie("hotline_session", visitor_cookie)  # the citizen's browser again
    assert client.post("/chat/rate", json={"rating": "basic"}, headers={"X-CSRFToken": visitor}).status_code == 200
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.satisfaction) == ("archived", "satisfied")
