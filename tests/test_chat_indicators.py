"""The online-service indicators a day of conversations earns (首次应答回复时长 ≤ 30 s, 人工挂机时长
≤ 30 s after 会话完毕, 在线满意率), measured per conversation on a frozen clock and shown to team
leads in 会话记录; and the citizen leaving (web 结束对话, WeChat unfollow) making a conversation
complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ChatMessage, Contact
from telephony_adapter import chats
from tests import factories
from tests import wechat_peer as peer
from tests.conftest import csrf_token
from workflows import clock

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Thursday


@pytest.fixture
def web_desk(app, monkeypatch):
    monkeypatch.setattr(chats, "enqueue_send", lambda message_id, delay_seconds=0: None)
    factories.chat_queue("web_chat", "webchat", "网页客服")
    return factories.ready_agent("li", "webchat")


def citizen(app):
    """A citizen's own browser session on the chat page, with its CSRF token."""
    import re

    browser = app.test_client()
    page = browser.get("/chat/").get_data(as_text=True)
    return browser, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def at(seconds: float):
    return clock.frozen_at(T0 + timedelta(seconds=seconds))


def say(browser, token, text, key):
    answer = browser.post("/chat/send", json={"text": text, "id": key}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    return db.session.get(Contact, db.session.get(ChatMessage, answer.get_json()["id"]).contact_id)


def test_a_day_of_conversations_is_measured_against_the_30_second_goals(app, client, auth, web_desk):
    agent = web_desk
    # 1: answered in 12 s; the citizen asks again, is answered, says nothing more — the agent
    #    closes 45 s after that last answer: the close is late.
    one, one_token = citizen(app)
    with at(0):
        first = say(one, one_token, "门诊慢特病怎么申请？", "a1")
    with at(12):
        chats.reply(agent, first, "携病历到定点医院申请鉴定。", clock.now())
    with at(40):
        say(one, one_token, "要带身份证吗？", "a2")
    with at(50):
        chats.reply(agent, db.session.get(Contact, first.id), "需要带社保卡。", clock.now())
    with at(95):
        chats.end(agent, db.session.get(Contact, first.id), clock.now())
    assert one.post("/chat/rate", json={"rating": "satisfied"}, headers={"X-CSRFToken": one_token}).status_code == 200
    # 2: answered only after 41 s; the citizen presses 结束对话 and the agent closes 20 s later.
    two, two_token = citizen(app)
    with at(100):
        second = say(two, two_token, "异地备案怎么办？", "b1")
    with at(141):
        chats.reply(agent, second, "在国家医保服务平台 APP 办理。", clock.now())
    with at(150):
        left = two.post("/chat/leave", headers={"X-CSRFToken": two_token})
    assert left.status_code == 200 and left.get_json()["message"] == "您已结束本次对话。"
    with at(170):
        chats.end(agent, db.session.get(Contact, second.id), clock.now())
    assert two.post("/chat/rate", json={"rating": "dissatisfied"}, headers={"X-CSRFToken": two_token}).status_code == 200
    # 3: li takes a break, so a third citizen waits and gives up: 放弃, with no agent figures.
    from telephony_adapter import agents

    agents.set_state(agent.id, "not_ready", T0 + timedelta(seconds=180), reason="break")
    three, three_token = citizen(app)
    with at(181):
        third = say(three, three_token, "有人吗？", "c1")
    with at(200):
        assert three.post("/chat/leave", headers={"X-CSRFToken": three_token}).status_code == 200
    assert three.post("/chat/leave", headers={"X-CSRFToken": three_token}).status_code == 409  # nothing open now

    db.session.expire_all()
    first, second, third = (db.session.get(Contact, c.id) for c in (first, second, third))
    assert first.completed_at == T0 + timedelta(seconds=50)  # the last message
    assert second.completed_at == T0 + timedelta(seconds=150)  # the citizen left
    assert (third.state, third.abandoned, third.agent_id) == ("ended", True, None)

    factories.user("lead", ["team_lead"])
    auth.login("lead")
    page = client.get("/chats/records", query_string={"day": "2026-12-03"}).get_data(as_text=True)
    figures = page[page.index('id="chat-figures"'):page.index("</dl>", page.index('id="chat-figures"'))]
    for label, value in (("会话", 3), ("已接待", 2), ("放弃", 1), ("首次回复超 30 秒", 1), ("挂机超 30 秒", 1)):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in figures, label
    assert "50.0%" in figures and "（2 人评价）" in figures  # 满意 + 基本满意 over the rated
    table = page[page.index('id="chats-table"'):]
    rows = table.split("<tr")[2:]  # after the heading
    # newest first: the abandoned one, then 2 (first reply 41 late, close 20), then 1 (12, close 45 late)
    assert "放弃" in rows[0]
    assert '<td class="num late">41</td>' in rows[1] and '<td class="num ">20</td>' in rows[1]
    assert '<td class="num ">12</td>' in rows[2] and '<td class="num late">45</td>' in rows[2]
    only_late = client.get("/chats/records", query_string={"day": "2026-12-03", "late": "1"}).get_data(as_text=True)
    assert only_late.count("会话内容</a>") == 2
    other_day = client.get("/chats/records", query_string={"day": "2026-12-04"}).get_data(as_text=True)
    assert "这一天没有会话。" in other_day


def test_reading_a_transcript_is_audited(app, client, auth, web_desk):
    browser, token = citizen(app)
    conversation = say(browser, token, "我的身份证号是 110101199003071234", "k1")
    factories.user("qa1", ["qa"])
    auth.login("qa1")
    page = client.get(f"/chats/records/{conversation.id}").get_data(as_text=True)
    assert "110101199003071234" in page and "查看会话内容已记入审计日志" in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "chat.transcript_read"))
    assert entry.username == "qa1" and entry.role == "qa" and f'"contact_id": {conversation.id}' in entry.data_json
    assert client.get("/chats/records/999999").status_code == 404


def test_the_agent_sees_who_left_and_the_close_countdown_source(app, client, auth, web_desk):
    browser, token = citizen(app)
    conversation = say(browser, token, "你好", "k1")
    chats.reply(web_desk, conversation, "您好，请讲。", clock.now())
    auth.login("li")
    page = client.get("/chats/").get_data(as_text=True)
    assert 'data-left=""' in page and "已离开" not in page and 'data-last="' in page
    browser.post("/chat/leave", headers={"X-CSRFToken": token})
    page = client.get("/chats/").get_data(as_text=True)
    assert "已离开" in page and "市民结束了对话" in page  # the badge and the note in the transcript
    assert 'data-left=""' not in page
    # the citizen comes back before the agent closed: the conversation is not complete after all
    say(browser, token, "还有一个问题", "k2")
    db.session.expire_all()
    assert db.session.get(Contact, conversation.id).completed_at is None


@pytest.fixture
def wechat_desk(app):
    from app.redis_client import get_redis
    from telephony_adapter.wechat_api import TOKEN_KEY

    app.config.update(WECHAT_TOKEN=peer.TOKEN)
    factories.chat_queue("wechat", "wechat", "微信客服")
    get_redis().delete(TOKEN_KEY)
    yield factories.ready_agent("li", "wechat")
    app.config.update(WECHAT_TOKEN=None)


def _push(client, xml: str):
    answer = client.post("/channels/wechat", query_string=peer.signed_query(), data=xml.encode(),
                         content_type="text/xml")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "success"


def test_a_wechat_user_who_unfollows_completes_their_conversation_and_nobody_is_given_an_empty_one(client, wechat_desk):
    _push(client, peer.event_message("oGone", "unsubscribe"))  # nothing open: nothing to serve
    assert db.session.scalar(select(Contact.id)) is None and db.session.scalar(select(ChatMessage.id)) is None
    _push(client, peer.text_message("oX", "医保卡丢了怎么办？", 501))
    _push(client, peer.event_message("oX", "unsubscribe"))
    _push(client, peer.event_message("oX", "unsubscribe"))  # WeChat retrying the same push: stored once
    db.session.expire_all()
    conversation = db.session.scalar(select(Contact).where(Contact.party == "oX"))
    assert conversation.state == "talking" and conversation.completed_at is not None
    assert [m.kind for m in chats.transcript(conversation)] == ["text", "event"]


def test_a_manager_keeps_the_canned_replies_agents_choose_from(client, auth, web_desk):
    factories.user("boss", ["manager"])
    auth.login("boss")
    token = csrf_token(client, "/chats/settings")
    assert client.post("/chats/settings/canned", data={"csrf_token": token, "text": "  "},
                       follow_redirects=True).get_data(as_text=True).count("常用语不能为空") == 1
    client.post("/chats/settings/canned", data={"csrf_token": token, "text": "请稍等，正在为您查询。"})
    client.post("/chats/settings/canned", data={"csrf_token": token, "text": "感谢您的耐心等待。"})
    from app.chats import settings

    first, second = settings.canned_replies()
    client.post(f"/chats/settings/canned/{second.id}", data={"csrf_token": token, "text": "感谢您的耐心等待！",
                                                             "position": "0"})
    client.post(f"/chats/settings/canned/{first.id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    assert [r.text for r in settings.canned_replies()] == ["感谢您的耐心等待！"]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("chat.canned%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["chat.canned_saved"] * 3 + ["chat.canned_deleted"]
    auth.logout()
    browser, citizen_token = citizen(client.application)
    say(browser, citizen_token, "你好", "k1")
    auth.login("li")
    page = client.get("/chats/").get_data(as_text=True)
    assert "<option>感谢您的耐心等待！</option>" in page and "请稍等，正在为您查询。" not in page


def test_a_manager_sets_how_many_chats_each_agent_serves_at_once(app, client, auth, web_desk):
    from app.models import AgentPresence

    factories.skill("phone_only", "语音")
    caller_agent = factories.ready_agent("zhao", "phone_only")  # takes no chats: not on the page
    factories.user("boss", ["manager"])
    auth.login("boss")
    page = client.get("/chats/settings").get_data(as_text=True)
    assert f'name="limit-{web_desk.id}" value="3"' in page and f"limit-{caller_agent.id}" not in page
    token = csrf_token(client, "/chats/settings")
    refused = client.post("/chats/settings/limits", data={"csrf_token": token, f"limit-{web_desk.id}": "11"},
                          follow_redirects=True).get_data(as_text=True)
    assert "同时接待数须在 1–10 之间" in refused
    not_chat = client.post("/chats/settings/limits", data={"csrf_token": token, f"limit-{web_desk.id}": "2",
                                                           f"limit-{caller_agent.id}": "2"}, follow_redirects=True)
    assert "只能设置接待在线客服的坐席" in not_chat.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AgentPresence, web_desk.id).chat_limit == 3  # all or nothing
    done = client.post("/chats/settings/limits", data={"csrf_token": token, f"limit-{web_desk.id}": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已更新 1 位坐席的同时接待数。" in done
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "chat.limit_set"))
    assert entry.summary == "li 同时接待会话数 3 → 1" and entry.username == "boss"
    # the limit holds: a second citizen waits while li serves the first
    first_browser, first_token = citizen(app)
    second_browser, second_token = citizen(app)
    first = say(first_browser, first_token, "第一位", "k1")
    second = say(second_browser, second_token, "第二位", "k2")
    assert (first.agent_id, second.agent_id, second.state) == (web_desk.id, None, "queued")
