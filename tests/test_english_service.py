"""英语服务: a citizen who writes from the English chat page is answered in English by an agent with
the English skill, with English 常用语, and rates the conversation in English; a caller who presses
9 in the demo's voice menu reaches the English queue; English agents read ticket categories in
English too. Without an English queue the conversation still reaches the channel's own queue."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, CallQueue, CannedReply, Contact, UserSkill
from telephony_adapter import agents, chats
from telephony_adapter.wechat import InboundMessage
from tests import factories
from tests.conftest import csrf_token
from workflows import clock


def _desk():
    """网页客服 served by 李娜 (chat), English web chat served by 王强 (en); both ready."""
    factories.chat_queue("web_chat", "chat", "网页客服")
    english = factories.skill("en", "英语")
    db.session.add(CallQueue(code="web_chat_en", name="English web chat", skill_id=english.id, min_level=1))
    li, wang = factories.user("li", ["agent"], display_name="李娜"), factories.user("wang", ["agent"],
                                                                                  display_name="王强")
    chat_skill = db.session.scalar(select(CallQueue.skill_id).where(CallQueue.code == "web_chat"))
    db.session.add_all([UserSkill(user_id=li.id, skill_id=chat_skill, level=3),
                        UserSkill(user_id=wang.id, skill_id=english.id, level=4)])
    db.session.add_all([CannedReply(text="您好，请问有什么可以帮您？", position=1),
                        CannedReply(text="Hello, how may I help you?", position=2, language="en")])
    db.session.commit()
    for agent in (li, wang):
        agents.set_state(agent.id, "ready", clock.now())
    return li, wang


def _page_token(client) -> str:
    page = client.get("/chat/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _json(client, url: str, token: str, body: dict | None = None):
    return client.post(url, json=body or {}, headers={"X-CSRFToken": token})


def test_a_citizen_on_the_english_page_is_served_in_english_from_first_line_to_rating(client, auth):
    li, wang = _desk()
    page = client.get("/chat/", query_string={"lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Online service" in page and ">Send<" in page
    assert 'data-rating="satisfied">Satisfied<' in page and "中文" in page  # and the way back to Chinese
    token = _page_token(client)
    assert "Online service" in client.get("/chat/").get_data(as_text=True)  # the choice is kept
    assert _json(client, "/chat/send", token, {"text": " ", "id": "m0"}).get_json()["error"] == "The message is empty"
    assert _json(client, "/chat/send", token, {"text": "How do I register for treatment in another city?",
                                               "id": "m1"}).status_code == 200
    conversation = db.session.scalar(select(Contact).where(Contact.channel == "web"))
    assert conversation.language == "en" and conversation.agent_id == wang.id  # not to 李娜, who has no English
    assert conversation.queue.code == "web_chat_en"
    assert _json(client, "/chat/rate", token, {"rating": "satisfied"}).get_json()["error"] == \
        "The conversation has not ended yet"
    # 王强's console marks it English and offers only the English 常用语
    auth.login("wang")
    console = client.get("/chats/", query_string={"c": conversation.id}).get_data(as_text=True)
    assert "English" in console and "Hello, how may I help you?" in console and "您好，请问有什么可以帮您？" not in console
    agent_token = csrf_token(client, "/chats/")
    client.post(f"/chats/{conversation.id}/reply", data={"csrf_token": agent_token,
                                                         "text": "Hello, how may I help you?"})
    client.post(f"/chats/{conversation.id}/end", data={"csrf_token": agent_token})
    auth.logout()
    # the citizen's session is the test client's: signed out, the visitor is the same browser
    answer = _json(client, "/chat/rate", _page_token(client), {"rating": "satisfied"}).get_json()
    assert answer == {"message": "Thank you for your rating!"}
    db.session.expire_all()
    assert db.session.get(Contact, conversation.id).chat_rating == "satisfied"


def test_without_an_english_queue_an_english_conversation_reaches_the_channels_own_queue(app):
    factories.chat_queue("web_chat", "chat", "网页客服")
    row, new = chats.receive(InboundMessage("web", "w-en", "w-en:1", "text", "Hello?", clock.now(), language="en"))
    contact = db.session.get(Contact, row.contact_id)
    assert new and contact.language == "en" and contact.queue.code == "web_chat"
    # an unknown language is read as Chinese, never stored as given
    row, _new = chats.receive(InboundMessage("web", "w-x", "w-x:1", "text", "?", clock.now(), language="xx"))
    assert db.session.get(Contact, row.contact_id).language == "zh"


def test_a_manager_keeps_english_phrases_and_the_change_is_audited(client, auth):
    factories.user("boss", ["manager"])
    auth.login("boss")
    token = csrf_token(client, "/chats/settings")
    client.post("/chats/settings/canned", data={"csrf_token": token, "text": "One moment please, I am checking.",
                                                "language": "en"})
    refused = client.post("/chats/settings/canned", data={"csrf_token": token, "text": "x", "language": "fr"},
                          follow_redirects=True).get_data(as_text=True)
    assert "请选择常用语的语言" in refused
    rows = db.session.scalars(select(CannedReply)).all()
    assert [(r.text, r.language) for r in rows] == [("One moment please, I am checking.", "en")]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "chat.canned_saved"))
    assert '"language": "en"' in entry.data_json


def test_the_demo_voice_menus_key_9_reaches_the_english_queue_and_its_agent(client):
    from app.demo import seed_demo_data
    from app.models import User
    from tests.test_calls import event, ivr

    seed_demo_data()
    wang = db.session.scalar(select(User).where(User.username == "agent2"))  # the demo's English speaker
    agents.set_state(wang.id, "ready", clock.now())
    event(client, "incoming", "en1", 0, caller="13800000009")
    assert "For English service, press 9" in ivr(client, "en1")["text"]
    answer = ivr(client, "en1", "9")
    assert answer["action"] == "queue" and answer["queue"] == "english" and answer["offered_to"] == wang.id


def test_english_agents_read_the_ticket_categories_in_english_too(client, auth):
    english = factories.skill("en", "英语")
    wang = factories.user("wang", ["agent"])
    factories.user("li", ["agent"])
    db.session.add(UserSkill(user_id=wang.id, skill_id=english.id, level=4))
    db.session.commit()
    auth.login("wang")
    assert "咨询 · Enquiry" in client.get("/tickets/new").get_data(as_text=True)
    auth.logout()
    auth.login("li")
    page = client.get("/tickets/new").get_data(as_text=True)
    assert "咨询" in page and "Enquiry" not in page
