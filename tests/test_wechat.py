"""A citizen writes to the hotline's WeChat Official Account: the pushes WeChat would send, signed
and encrypted by an independent implementation (tests/wechat_peer.py), reach /channels/wechat;
the agent's reply goes out through a local server speaking WeChat's customer-service API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatMessage, Contact
from tests import factories
from tests import wechat_peer as peer
from workflows import clock


@pytest.fixture
def wechat(app):
    api = peer.ApiServer()
    app.config.update(WECHAT_TOKEN=peer.TOKEN, WECHAT_AES_KEY=peer.AES_KEY, WECHAT_APPID=peer.APP_ID,
                      WECHAT_SECRET=peer.SECRET, WECHAT_API_BASE=api.base)
    factories.chat_queue("wechat", "wechat", "微信客服")
    from app.redis_client import get_redis
    from telephony_adapter.wechat_api import TOKEN_KEY

    get_redis().delete(TOKEN_KEY)
    yield api
    api.stop()
    app.config.update(WECHAT_TOKEN=None, WECHAT_AES_KEY=None, WECHAT_APPID=None, WECHAT_SECRET=None)


def push(client, xml: str, query: dict | None = None):
    return client.post("/channels/wechat", query_string=query or peer.signed_query(), data=xml.encode(),
                       content_type="text/xml")


def messages() -> list[ChatMessage]:
    db.session.expire_all()
    return db.session.scalars(select(ChatMessage).order_by(ChatMessage.id)).all()


def test_wechat_checks_the_server_url_and_a_forged_check_is_refused(client, wechat):
    good = client.get("/channels/wechat", query_string={**peer.signed_query(), "echostr": "4711"})
    assert (good.status_code, good.get_data(as_text=True)) == (200, "4711")
    forged = client.get("/channels/wechat", query_string={**peer.signed_query(), "signature": "0" * 40,
                                                          "echostr": "4711"})
    assert forged.status_code == 403 and "4711" not in forged.get_data(as_text=True)


def test_a_citizens_message_opens_a_conversation_in_the_wechat_queue_and_a_retry_is_stored_once(client, wechat):
    answer = push(client, peer.text_message("oCitizen1", "请问异地就医怎么备案？", 6201))
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "success")
    push(client, peer.text_message("oCitizen1", "请问异地就医怎么备案？", 6201))  # WeChat retried after 5 s
    push(client, peer.text_message("oCitizen1", "我在广州工作。", 6202))
    [first, second] = messages()
    assert (first.text, first.direction, first.external_id) == ("请问异地就医怎么备案？", "in", "6201")
    conversation = db.session.get(Contact, first.contact_id)
    assert second.contact_id == conversation.id  # the same conversation while it is open
    assert (conversation.channel, conversation.party, conversation.state) == ("wechat", "oCitizen1", "queued")
    assert conversation.queue.code == "wechat"


def test_safe_mode_envelopes_are_opened_and_tampered_or_misaddressed_ones_refused(client, wechat):
    query, envelope = peer.safe_push(peer.text_message("oCitizen2", "医保卡丢了怎么办", 7001))
    assert push(client, envelope, query).get_data(as_text=True) == "success"
    assert [m.text for m in messages()] == ["医保卡丢了怎么办"]
    start = envelope.index("<Encrypt><![CDATA[") + 30
    tampered = envelope[:start] + ("B" if envelope[start] != "B" else "C") + envelope[start + 1:]  # one letter changed
    assert push(client, tampered, query).status_code == 403  # the message signature no longer matches
    query, other = peer.safe_push(peer.text_message("oCitizen2", "别的公众号", 7002), app_id="wxsomebodyelse00")
    assert push(client, other, query).status_code == 403
    assert len(messages()) == 1


def test_forged_unreadable_dangerous_or_oversized_pushes_store_nothing(client, wechat):
    xml = peer.text_message("oCitizen3", "你好", 8001)
    assert push(client, xml, {**peer.signed_query(), "signature": "f" * 40}).status_code == 403
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            "<xml><FromUserName>oCitizen3</FromUserName><Content>&b;</Content></xml>")
    assert push(client, bomb).status_code == 400
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                "<xml><FromUserName>oCitizen3</FromUserName><Content>&e;</Content></xml>")
    assert push(client, external).status_code == 400
    assert push(client, "<xml><unclosed>").status_code == 400
    assert push(client, "<xml>" + "x" * 70_000 + "</xml>").status_code == 413
    assert messages() == [] and db.session.scalar(select(func.count(Contact.id))) == 0


def test_voice_location_and_menu_events_are_kept_with_what_they_carry(client, wechat):
    push(client, "<xml><ToUserName>gh</ToUserName><FromUserName>oCitizen4</FromUserName><CreateTime>1796459100"
                 "</CreateTime><MsgType>voice</MsgType><MediaId>m-1</MediaId><Format>amr</Format>"
                 "<Recognition>我想查一下报销进度</Recognition><MsgId>9001</MsgId></xml>")
    push(client, "<xml><ToUserName>gh</ToUserName><FromUserName>oCitizen4</FromUserName><CreateTime>1796459110"
                 "</CreateTime><MsgType>location</MsgType><Location_X>23.13</Location_X><Location_Y>113.26</Location_Y>"
                 "<Scale>15</Scale><Label>广州市天河区</Label><MsgId>9002</MsgId></xml>")
    click = ("<xml><ToUserName>gh</ToUserName><FromUserName>oCitizen4</FromUserName><CreateTime>1796459120"
             "</CreateTime><MsgType>event</MsgType><Event>CLICK</Event><EventKey>HUMAN</EventKey></xml>")
    push(client, click)
    push(client, click)  # an event has no MsgId: sender and time make the retry recognisable
    voice, place, event = messages()
    assert (voice.kind, voice.text, json.loads(voice.data_json)["media_id"]) == ("voice", "我想查一下报销进度", "m-1")
    assert place.text == "[位置] 广州市天河区" and json.loads(place.data_json)["latitude"] == "23.13"
    assert (event.kind, json.loads(event.data_json)) == ("event", {"event": "click", "key": "HUMAN"})


def test_the_agents_reply_goes_out_through_the_customer_service_api_refreshing_a_revoked_token(
        client, wechat, monkeypatch):
    from telephony_adapter import chats

    agent = factories.ready_agent("li", "wechat")
    push(client, peer.text_message("oCitizen5", "门诊报销比例是多少？", 9101))
    conversation = db.session.get(Contact, messages()[0].contact_id)

    wechat.stale_once = True  # WeChat revoked the token the platform holds
    sent: list[int] = []
    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: sent.append(message_id))
    row = chats.reply(agent, conversation, "职工医保门诊报销比例为 70%。", clock.now())
    assert (row.send_state, sent) == ("pending", [row.id])  # stored first, sent by the job
    assert chats.send(row.id, clock.now()) == "sent"
    assert wechat.sent == [{"touser": "oCitizen5", "msgtype": "text", "text": {"content": "职工医保门诊报销比例为 70%。"}}]
    assert wechat.tokens_issued == 2  # fetched, refused as revoked, fetched again
    assert messages()[-1].send_state == "sent" and messages()[-1].attempts == 1


def test_a_reply_wechat_keeps_refusing_is_retried_then_shown_failed_never_lost(client, wechat, monkeypatch):
    from telephony_adapter import chats

    agent = factories.ready_agent("li", "wechat")
    push(client, peer.text_message("oCitizen6", "在吗", 9201))
    conversation = db.session.get(Contact, messages()[0].contact_id)

    retries: list[tuple[int, int]] = []
    monkeypatch.setattr(chats, "enqueue_send",
                        lambda message_id, delay_seconds=0: retries.append((message_id, delay_seconds)))
    wechat.refuse = 45009  # api freq out of limit: worth retrying
    row = chats.reply(agent, conversation, "您好，请讲。", clock.now())
    states = [chats.send(row.id, clock.now()) for _ in range(4)]
    assert states == ["pending", "pending", "pending", "failed"]
    assert [delay for _, delay in retries] == [0, 5, 20, 60]  # the first send, then the back-off
    kept = messages()[-1]
    assert (kept.send_state, kept.attempts, kept.text) == ("failed", 4, "您好，请讲。")
    assert "45009" in kept.error


def test_the_outbox_sends_again_a_reply_whose_job_was_lost_and_leaves_the_rest_alone(client, wechat, monkeypatch):
    """A worker killed mid-send, or Redis restarted empty, loses the job, never the reply: the reply
    waits in the database, pending, and the outbox sweep queues it again once it is overdue — but
    not one still waiting its retry back-off, nor one already sent."""
    from datetime import timedelta

    from telephony_adapter import chats

    agent = factories.ready_agent("li", "wechat")
    push(client, peer.text_message("oCitizen7", "在吗", 9301))
    conversation = db.session.get(Contact, messages()[0].contact_id)
    queued: list[int] = []
    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: queued.append(message_id))
    start = clock.now()
    lost = chats.reply(agent, conversation, "您好，请讲。", start)  # its job vanished with the worker
    sent = chats.reply(agent, conversation, "请问您要咨询什么？", start)
    assert chats.send(sent.id, start) == "sent"
    later = start + timedelta(seconds=30)
    assert chats.resend_stalled(later) == []  # within the outbox's patience (60 s): the job may yet run
    wechat.refuse = 45009
    backing_off = chats.reply(agent, conversation, "稍等。", later)
    assert chats.send(backing_off.id, later) == "pending"  # next try in 5 s, its job already queued
    queued.clear()
    assert chats.resend_stalled(start + timedelta(seconds=61)) == [lost.id]
    assert queued == [lost.id]
    assert chats.resend_stalled(start + timedelta(seconds=62)) == []  # queued once, not on every sweep
    wechat.refuse = None
    assert chats.send(lost.id, start + timedelta(seconds=62)) == "sent"
    assert [m["text"]["content"] for m in wechat.sent] == ["请问您要咨询什么？", "您好，请讲。"]
