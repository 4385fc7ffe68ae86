"""In Chromium: a WeChat user writes, the conversation appears pushed in the ready agent's console
with its first-response countdown; the agent answers with a canned reply and sees it delivered."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import ChatMessage
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
    factories.chat_queue("wechat", "wechat", "微信客服")
    factories.ready_agent("agent1", "wechat")
    from app.models import CannedReply

    db.session.add(CannedReply(text="您好，这里是医保服务热线在线客服。", position=1))
    db.session.commit()
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
        page.select_option("#chat-canned", index=1)  # the manager's 常用语
        assert page.input_value("#chat-text") == "您好，这里是医保服务热线在线客服。"
        page.fill("#chat-text", page.input_value("#chat-text") + "异地就医备案可在国家医保服务平台 APP 办理。")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(".chat-out:has-text('国家医保服务平台')")
        db.session.expire_all()
        [reply] = db.session.scalars(select(ChatMessage).where(ChatMessage.direction == "out")).all()
        assert chats.send(reply.id, clock.now()) == "sent"  # what the worker does
        page.wait_for_selector(".chat-out:has-text('已送达')")
        # answered: no first-reply countdown any more; the 30 s to close run from the answer
        assert page.inner_text(".chat-item .chat-timer").startswith("结束")
        assert page.input_value("#chat-text") == ""
        assert api.sent[0]["touser"] == "oCitizenBrowser01"
        screenshot(page, "chats-02-answered")
    finally:
        page.context.close()
        api.stop()
        app.config.update(WECHAT_TOKEN=None, WECHAT_APPID=None, WECHAT_SECRET=None)


def test_a_citizen_on_the_web_page_and_an_agent_in_the_console_hold_a_chat_and_the_citizen_rates_it(
        app, live_server, browser):
    from telephony_adapter import chats
    from workflows import clock

    factories.chat_queue("web_chat", "webchat", "网页客服")
    factories.ready_agent("agent1", "webchat")
    from app.knowledge.demo import seed_knowledge

    seed_knowledge()  # the demo FAQ, published
    agent = signed_in(browser, live_server, "agent1")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 760}, is_mobile=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(10_000)
    try:
        agent.goto(f"{live_server}/chats/")
        citizen.goto(f"{live_server}/chat/")
        citizen.fill("#wc-text", "你好，请问生育津贴怎么申领？")
        citizen.keyboard.press("Enter")
        citizen.wait_for_selector(".wc-in:has-text('生育津贴')")
        agent.wait_for_selector(".chat-item")
        agent.click(".chat-item")
        agent.wait_for_selector("text=你好，请问生育津贴怎么申领？")
        agent.wait_for_selector("#chat-kb-list li:has-text('生育津贴怎么申领')")  # 知识库推荐 for the question
        screenshot(agent, "chats-05-console-knowledge")
        agent.keyboard.press("F2")  # the public answer goes into the reply box
        assert agent.input_value("#chat-text").startswith("生育津贴是参加生育保险的女职工")
        agent.keyboard.press("Control+Enter")
        agent.wait_for_selector(".chat-out:has-text('生育津贴是参加生育保险')")
        db.session.expire_all()
        [reply] = db.session.scalars(select(ChatMessage).where(ChatMessage.direction == "out")).all()
        assert chats.send(reply.id, clock.now()) == "sent"  # what the worker does
        citizen.wait_for_selector(".wc-out:has-text('生育津贴是参加生育保险')")  # pushed to the page
        screenshot(citizen, "chats-03-citizen-page")
        citizen.once("dialog", lambda dialog: dialog.accept())
        citizen.click("#wc-leave")  # 结束对话 from the citizen's side
        citizen.wait_for_selector("text=您已结束本次对话。")
        # pushed to the console: the badge, the note, and the 30 s to close counting down
        agent.wait_for_selector(".chat-item .badge:has-text('已离开')")
        agent.wait_for_selector(".chat-event:has-text('市民结束了对话')")
        agent.wait_for_selector(".chat-timer:has-text('结束')")
        screenshot(agent, "chats-06-citizen-left")
        agent.once("dialog", lambda dialog: dialog.accept())
        agent.click("button:has-text('结束会话')")
        citizen.wait_for_selector("#wc-rating:not([hidden])")
        screenshot(citizen, "chats-04-citizen-rating")
        citizen.click("button[data-rating=basic]")
        citizen.wait_for_selector("text=感谢您的评价！")
        from app.models import Contact

        db.session.expire_all()
        assert db.session.scalar(select(Contact.chat_rating).where(Contact.channel == "web")) == "basic"
    finally:
        phone.close()
        agent.context.close()
    factories.user("lead1", ["team_lead"])
    lead = signed_in(browser, live_server, "lead1")
    try:
        lead.goto(f"{live_server}/chats/records")
        lead.wait_for_selector("#chats-table td:has-text('agent1')")
        assert "基本满意" in lead.inner_text("#chats-table")
        assert "100.0%" in lead.inner_text("#chat-figures")  # one rated, 基本满意 counts as satisfied
        screenshot(lead, "chats-08-records")
        lead.click("text=会话内容")
        lead.wait_for_selector(".chat-event:has-text('市民结束了对话')")
        screenshot(lead, "chats-09-record")
    finally:
        lead.context.close()


def test_a_manager_adds_a_canned_reply_and_lowers_an_agents_chat_limit(app, live_server, browser):
    from app.models import AgentPresence

    factories.chat_queue("web_chat", "webchat", "网页客服")
    agent1 = factories.ready_agent("agent1", "webchat")
    factories.user("boss", ["manager"])
    page = signed_in(browser, live_server, "boss")
    try:
        page.goto(f"{live_server}/")
        page.click("text=在线客服设置")
        page.fill("#canned-new input[name=text]", "请您保持在线，我马上为您查询。")
        page.click("#canned-new button")
        page.wait_for_selector("text=常用语已保存。")
        page.fill(f"input[name=limit-{agent1.id}]", "2")
        page.click("#limits-form button")
        page.wait_for_selector("text=已更新 1 位坐席的同时接待数。")
        screenshot(page, "chats-07-settings")
        db.session.expire_all()
        assert db.session.get(AgentPresence, agent1.id).chat_limit == 2
    finally:
        page.context.close()
    agent = signed_in(browser, live_server, "agent1")
    try:
        agent.goto(f"{live_server}/chats/")
        agent.wait_for_selector("h1:has-text('在线客服')")
        assert "请您保持在线，我马上为您查询。" not in agent.content()  # no conversation open: no reply box
    finally:
        agent.context.close()


def test_a_citizen_writes_in_english_and_an_english_speaking_agent_answers_with_an_english_phrase(
        app, live_server, browser):
    from app.models import CallQueue, CannedReply, Contact
    from telephony_adapter import chats
    from workflows import clock

    factories.chat_queue("web_chat", "webchat", "网页客服")
    factories.ready_agent("agent1", "webchat")  # speaks no English: not given the conversation
    english = factories.skill("en", "英语")
    db.session.add(CallQueue(code="web_chat_en", name="English web chat", skill_id=english.id, min_level=1))
    db.session.add_all([CannedReply(text="您好，请问有什么可以帮您？", position=1),
                        CannedReply(text="Hello, this is the 12393 hotline. How may I help you?", position=2,
                                    language="en")])
    db.session.commit()
    factories.ready_agent("agent2", "en")
    agent = signed_in(browser, live_server, "agent2")
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 760}, is_mobile=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(10_000)
    try:
        agent.goto(f"{live_server}/chats/")
        citizen.goto(f"{live_server}/chat/")
        citizen.click("#wc-lang")  # English, from the Chinese page
        citizen.wait_for_selector("text=Type your question and an English-speaking agent will answer you shortly.")
        citizen.fill("#wc-text", "Hello, how do I claim maternity benefit?")
        citizen.keyboard.press("Enter")
        citizen.wait_for_selector(".wc-in:has-text('maternity benefit')")
        agent.wait_for_selector(".chat-item .chat-english")
        agent.click(".chat-item")
        agent.wait_for_selector("text=Hello, how do I claim maternity benefit?")
        assert agent.locator("#chat-canned option").all_inner_texts() == [
            "常用语…", "Hello, this is the 12393 hotline. How may I help you?"]
        agent.select_option("#chat-canned", index=1)
        agent.keyboard.press("Control+Enter")
        agent.wait_for_selector(".chat-out:has-text('12393 hotline')")
        screenshot(agent, "chats-10-english-console")
        db.session.expire_all()
        [reply] = db.session.scalars(select(ChatMessage).where(ChatMessage.direction == "out")).all()
        assert chats.send(reply.id, clock.now()) == "sent"  # what the worker does
        citizen.wait_for_selector(".wc-out:has-text('12393 hotline')")
        agent.once("dialog", lambda dialog: dialog.accept())
        agent.click("button:has-text('结束会话')")
        citizen.wait_for_selector("text=The agent has ended the conversation.")
        citizen.wait_for_selector("#wc-rating:not([hidden]) button:has-text('Basically satisfied')")
        screenshot(citizen, "chats-11-english-citizen-rating")
        citizen.click("button[data-rating=satisfied]")
        citizen.wait_for_selector("text=Thank you for your rating!")
        db.session.expire_all()
        conversation = db.session.scalar(select(Contact).where(Contact.channel == "web"))
        assert (conversation.language, conversation.chat_rating) == ("en", "satisfied")
    finally:
        phone.close()
        agent.context.close()


def test_a_citizen_starts_a_video_session_and_the_video_agent_sees_and_hears_them(app, live_server, browser):
    """视频服务: the citizen agrees to recording and presses 开始视频; the session reaches the ready agent
    with the video skill as a conversation; the agent presses 接通视频 and both pages show the other's
    picture (Chromium's generated camera), connected browser to browser; the side chat works as a
    chat, and 转为工单 links the session to the ticket."""
    from app.models import Contact

    factories.chat_queue("video", "video", "视频客服")
    factories.ready_agent("agent1", "video")
    agent = signed_in(browser, live_server, "agent1")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800}, is_mobile=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(15_000)
    agent.set_default_timeout(15_000)
    try:
        agent.goto(f"{live_server}/chats/")
        citizen.goto(f"{live_server}/video/")
        citizen.check("#wc-consent")
        citizen.click("#wc-start")
        citizen.wait_for_selector("#wc-video-state:has-text('正在为您接通视频坐席')")
        agent.wait_for_selector(".chat-item:has(.chat-channel:text-is('视频'))")
        agent.click(".chat-item")
        agent.wait_for_selector("#chat-video-consent:has-text('市民同意录音录像')")
        agent.click("#chat-video-start")
        agent.wait_for_selector("#chat-video-state:has-text('视频已接通')")
        citizen.wait_for_selector("#wc-video-state:has-text('视频已接通')")
        # each side shows the other's picture: frames decoded from the far end
        agent.wait_for_function("() => document.getElementById('agent-remote').videoWidth > 0")
        citizen.wait_for_function("() => document.getElementById('wc-remote').videoWidth > 0")
        assert agent.evaluate("window.hotlineVideo.pc.connectionState") == "connected"
        screenshot(citizen, "video-01-citizen")
        screenshot(agent, "video-02-agent")
        citizen.fill("#wc-text", "我想咨询门诊慢特病的申请材料。")
        citizen.keyboard.press("Enter")
        agent.wait_for_selector("text=我想咨询门诊慢特病的申请材料。")
        db.session.expire_all()
        session = db.session.scalar(select(Contact).where(Contact.channel == "video"))
        assert session.recording_consent is True and session.state == "talking"
        with agent.expect_popup() as opened:  # in a new window: the picture goes on
            agent.click("#chat-to-ticket")
        intake = opened.value
        intake.wait_for_selector("#f-subject")
        assert intake.input_value("#f-subject") == "我想咨询门诊慢特病的申请材料。"
        intake.close()
        assert agent.evaluate("window.hotlineVideo.pc.connectionState") == "connected"
        agent.wait_for_selector("#chat-video-state:has-text('录像中')")  # the citizen agreed
        agent.wait_for_timeout(1500)
        agent.once("dialog", lambda dialog: dialog.accept())
        agent.click("button:has-text('结束会话')")
        agent.wait_for_selector("text=会话已结束。")
        db.session.expire_all()
        session = db.session.get(Contact, session.id)
        assert session.state == "ended" and session.recording.endswith(".webm")
        from telephony_adapter import video

        with app.test_request_context():
            kept = (video.recordings_folder() / session.recording).read_bytes()
        assert kept.startswith(video.WEBM_MAGIC) and len(kept) > 1000
    finally:
        phone.close()
        agent.context.close()
