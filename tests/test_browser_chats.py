"""In Chromium: a WeChat user writes, the conversation appears pushed in the ready agent's console
with its first-response countdown; the agent answers with a canned reply and sees it delivered."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import CallQueue, ChatMessage
from tests import factories
from tests import wechat_peer as peer
from tests.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


def test_a_wechat_message_pops_into_the_console_and_the_agent_answers_it(app, live_server, browser):
    api = peer.ApiServer()
    app.config.update(WECHAT_TOKEN=peer.TOKEN, WECHAT_APPID=peer.APP_ID, WECHAT_SECRET=peer.SECRET,
                      WECHAT_API_BASE=api.base)
    from app.redis_client import get_redis
    from telephony_adapter import chats
    from telephony_adapter.wechat_api import TOKEN_KEY
    from workflows import clock

    get_redis().delete(TOKEN_KEY)
    skill = factories.skill("wechat", "微信客服")
    db.session.add(CallQueue(code="wechat", name="微信客服", skill_id=skill.id, min_level=1))
    db.session.commit()
    factories.ready_agent("agent1", "wechat")
    page = signed_in(browser, live_server, "agent1")
    try:
        page.goto(f"{live_server}/chats/")
        page.wait_for_selector("text=暂无会话")
        for n, text in enumerate(["您好，我想问异地就医备案。", "我在深圳工作，参保在本市。"]):
            answer = requests.post(f"{live_server}/channels/wechat", params=peer.signed_query(), timeout=10,
                                   data=peer.text_message("oCitizenBrowser01", text, 5100 + n).encode())
            assert answer.text == "success"
        page.wait_for_selector(".chat-item")  # pushed: the list redrew itself
        page.wait_for_selector(".chat-item .chat-timer:has-text('首次回复')")
        page.click(".chat-item")
        page.wait_for_selector("text=我在深圳工作，参保在本市。")
        screenshot(page, "chats-01-new-conversation")
        page.select_option("#chat-canned", index=1)
        page.fill("#chat-text", page.input_value("#chat-text") + "异地就医备案可在国家医保服务平台 APP 办理。")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(".chat-out:has-text('国家医保服务平台')")
        db.session.expire_all()
        [reply] = db.session.scalars(select(ChatMessage).where(ChatMessage.direction == "out")).all()
        assert chats.send(reply.id, clock.now()) == "sent"  # what the worker does
        page.wait_for_selector(".chat-out:has-text('已送达')")
        assert page.inner_text(".chat-item .chat-timer") == ""  # answered: no countdown any more
        assert api.sent[0]["touser"] == "oCitizenBrowser01"
        screenshot(page, "chats-02-answered")
    finally:
        page.context.close()
        api.stop()
        app.config.update(WECHAT_TOKEN=None, WECHAT_APPID=None, WECHAT_SECRET=None)
