"""Conversations shared out to agents (several each, up to their limit) and worked in the console."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AgentPresence, ChatMessage, Contact
from tests import factories
from tests import wechat_peer as peer
from tests.conftest import csrf_token


@pytest.fixture
def desk(app):
    """The wechat queue and two agents who know it: li may take one chat at once, wang two."""
    from app.redis_client import get_redis
    from telephony_adapter.wechat_api import TOKEN_KEY

    app.config.update(WECHAT_TOKEN=peer.TOKEN)
    factories.chat_queue("wechat", "wechat", "微信客服")
    li = factories.ready_agent("li", "wechat")
    wang = factories.ready_agent("wang", "wechat")
    db.session.get(AgentPresence, li.id).chat_limit = 1
    db.session.get(AgentPresence, wang.id).chat_limit = 2
    db.session.commit()
    get_redis().delete(TOKEN_KEY)
    yield {"li": li, "wang": wang}
    app.config.update(WECHAT_TOKEN=None)


def write(client, openid: str, text: str, msg_id: int) -> Contact:
    answer = client.post("/channels/wechat", query_string=peer.signed_query(),
                         data=peer.text_message(openid, text, msg_id).encode(), content_type="text/xml")
    assert answer.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.party == openid, Contact.state != "ended"))


def test_conversations_go_to_the_agent_with_fewest_chats_within_each_limit_and_wait_for_room(client, auth, desk):
    li, wang = desk["li"], desk["wang"]
    first = write(client, "oA", "第一位", 1)
    second = write(client, "oB", "第二位", 2)
    third = write(client, "oC", "第三位", 3)
    fourth = write(client, "oD", "第四位", 4)
    assert (first.agent_id, second.agent_id, third.agent_id) == (li.id, wang.id, wang.id)
    assert (fourth.state, fourth.agent_id) == ("queued", None)  # everybody is at their limit
    assert db.session.get(AgentPresence, wang.id).state == "ready"  # chats do not take the phone's ACD turn
    auth.login("li")
    token = csrf_token(client, "/chats/")
    assert client.post(f"/chats/{first.id}/end", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, fourth.id).agent_id == li.id  # li had room again


def test_the_agent_answers_in_the_console_and_the_first_response_is_timed(client, auth, desk, monkeypatch):
    from telephony_adapter import chats

    queued: list[int] = []
    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: queued.append(message_id))
    conversation = write(client, "oE", "职工医保门诊怎么报销？", 11)
    auth.login("li")
    page = client.get("/chats/").get_data(as_text=True)
    assert "职工医保门诊怎么报销？" in page and "30 秒内首次回复" in page
    assert f'data-contact="{conversation.id}"' in page and 'data-answered=""' in page
    token = csrf_token(client, "/chats/")
    answer = client.post(f"/chats/{conversation.id}/reply", headers={"Accept": "application/json"},
                         data={"csrf_token": token, "text": "凭社保卡在定点医院直接结算。"})
    assert answer.status_code == 200 and answer.get_json()["state"] == "pending" and queued
    empty = client.post(f"/chats/{conversation.id}/reply", data={"csrf_token": token, "text": "  "},
                        headers={"Accept": "application/json"})
    assert empty.status_code == 422 and empty.get_json()["error"] == "回复内容不能为空"
    db.session.expire_all()
    conversation = db.session.get(Contact, conversation.id)
    assert conversation.answered_at is not None and conversation.answered_at >= conversation.offered_at
    [out] = db.session.scalars(select(ChatMessage).where(ChatMessage.direction == "out")).all()
    assert (out.author_id, out.send_state) == (desk["li"].id, "pending")
    transcript = client.get(f"/chats/?c={conversation.id}&part=transcript").get_data(as_text=True)
    assert "凭社保卡在定点医院直接结算。" in transcript and "发送中" in transcript
    auth.logout()
    auth.login("wang")  # not wang's conversation
    assert client.post(f"/chats/{conversation.id}/reply", data={"csrf_token": csrf_token(client, "/chats/"),
                                                                 "text": "我来"}).status_code == 403


def test_a_conversation_is_handed_to_a_ready_colleague_or_back_to_the_queue(client, auth, desk):
    """转接: to wang (ready, with room) it moves at once; back to the queue it goes to whoever else
    may take it — never straight back to the one handing it on — or waits there."""
    li, wang = desk["li"], desk["wang"]
    conversation = write(client, "oF", "我要投诉药店。", 21)
    assert conversation.agent_id == li.id
    auth.login("li")
    token = csrf_token(client, "/chats/")
    page = client.get(f"/chats/?c={conversation.id}").get_data(as_text=True)
    assert f'value="user:{wang.id}"' in page and 'value="queue:wechat"' in page
    client.post(f"/chats/{conversation.id}/transfer", data={"csrf_token": token, "target": f"user:{wang.id}"})
    db.session.expire_all()
    assert db.session.get(Contact, conversation.id).agent_id == wang.id
    auth.logout()
    auth.login("wang")
    token = csrf_token(client, "/chats/")
    db.session.get(AgentPresence, li.id).state = "not_ready"  # li went for a break meanwhile
    db.session.commit()
    client.post(f"/chats/{conversation.id}/transfer", data={"csrf_token": token, "target": "queue:wechat"})
    db.session.expire_all()
    back = db.session.get(Contact, conversation.id)
    assert (back.state, back.agent_id) == ("queued", None)  # nobody else may take it now: it waits
    refused = client.post(f"/chats/{conversation.id}/transfer", data={"csrf_token": token, "target": "queue:wechat"})
    assert refused.status_code == 403  # no longer wang's
