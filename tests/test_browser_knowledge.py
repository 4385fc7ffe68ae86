"""The knowledge base in Chromium: while an agent types a caller's question into the intake form the
matching articles appear beside it and F2 puts the answer into the reply; a team lead reviews a
colleague's change and registers a policy change; the search page marks the words that matched."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.knowledge import demo
from app.models import Ticket
from app.models.knowledge import KbAnswerUse, KbArticle
from tests import factories
from tests.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


def _login(browser, live_server, username):
    return signed_in(browser, live_server, username, width=1360, height=900)


@pytest.fixture
def kb(app):
    factories.department("DY", "待遇保障科")
    factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("lead1", ["team_lead"], display_name="赵敏")
    factories.user("qa1", ["qa"], display_name="陈静")
    demo.seed_knowledge()
    return {a.question: a.id for a in db.session.scalars(select(KbArticle))}


def test_suggestions_follow_the_agents_typing_and_f2_answers_the_caller(app, live_server, browser, kb):
    agent = _login(browser, live_server, "agent1")
    agent.keyboard.press("n")
    agent.wait_for_selector("#intake-form")
    agent.fill("#f-caller_phone", "13800000001")
    agent.select_option("#f-category", "consultation")
    agent.fill("#f-subject", "外地住院备案")
    agent.locator("#f-content").press_sequentially("我爸下个月去外地看病，异地就医备案手机上怎么弄", delay=5)
    agent.wait_for_selector(".kb-suggestion")
    first = agent.locator(".kb-suggestion").first
    assert "备案" in first.inner_text()
    assert first.locator("mark").count() > 0
    screenshot(agent, "kb-01-intake-suggestions")
    agent.keyboard.press("F2")
    assert agent.is_checked('input[name="handling"][value="on_spot"]')
    reply = agent.input_value("#f-reply")
    chosen = int(agent.get_attribute("[data-kb-suggest]", "data-inserted"))
    assert reply and reply == db.session.get(KbArticle, chosen).answer
    screenshot(agent, "kb-02-answer-inserted")
    agent.keyboard.press("Control+Enter")
    agent.wait_for_selector(".ticket-number")
    ticket = db.session.scalar(select(Ticket))
    use = db.session.scalar(select(KbAnswerUse))
    assert ticket.status == "callback" or ticket.reply == reply
    assert use.ticket_id == ticket.id and use.article_id == chosen


def test_a_change_is_reviewed_and_a_policy_change_is_registered(app, live_server, browser, kb):
    article_id = next(i for q, i in kb.items() if "门诊特殊疾病" in q or "门特" in q or "慢特病" in q)
    qa = _login(browser, live_server, "qa1")
    qa.goto(f"{live_server}/kb/articles/{article_id}/edit")
    answer = qa.input_value("textarea[name=answer]")
    qa.fill("textarea[name=answer]", answer + "自 2026 年起，认定结果通过短信告知。")
    qa.fill("input[name=note]", "补充认定结果告知方式")
    qa.get_by_role("button", name="保存并提交审核").click()
    assert "已保存并提交审核" in qa.inner_text(".alert-success")

    lead = _login(browser, live_server, "lead1")
    lead.goto(f"{live_server}/kb/")
    assert "待审核（1）" in lead.inner_text(".kb-side")
    lead.goto(f"{live_server}/kb/articles/{article_id}")
    lead.get_by_role("link", name="查看与已发布版本的差异").click()
    assert "认定结果通过短信告知" in lead.inner_text(".kb-diff ins")
    screenshot(lead, "kb-03-version-diff")
    lead.go_back()
    lead.get_by_role("button", name="审核通过并发布").click()
    assert "已审核通过并发布" in lead.inner_text(".alert-success")
    assert "认定结果通过短信告知" in lead.inner_text(".kb-answer")

    lead.goto(f"{live_server}/kb/policy-changes")
    lead.fill("input[name=title]", "调整门诊特殊疾病认定与待遇办法")
    lead.fill("input[name=document_ref]", "甘医保发〔2026〕30号")
    lead.get_by_role("button", name="查找可能受影响的文章").click()
    lead.wait_for_selector("input[name=article_ids]")
    screenshot(lead, "kb-04-policy-change-suggestions")
    lead.get_by_role("button", name="登记并开始计时").click()
    assert "已登记政策变更" in lead.inner_text(".alert-success")
    assert "待更新" in lead.inner_text("table")

    lead.goto(f"{live_server}/kb/?q=" + "门特怎么申请")
    first = lead.locator(".kb-hit").first
    assert re.search("门诊特殊疾病|慢特病", first.inner_text())
    screenshot(lead, "kb-05-search")
