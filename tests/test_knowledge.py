"""The knowledge base as the hotline uses it: a QA colleague writes, a team lead reviews and
publishes, agents find answers in their own words (synonyms a team lead maintains), an inserted
answer is remembered with the ticket, and a policy change must reach the articles within one
working day — counted on the working-day calendar, across the National Day holiday."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.knowledge import search, services
from app.knowledge.services import ArticleInput, KbRefused
from app.models import User
from app.models.knowledge import KbAnswerUse, KbArticle, KbArticleVersion, KbSynonym, PolicyChange
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _input(question: str, answer: str, **kw) -> ArticleInput:
    return ArticleInput(category_id=kw.get("category_id"), question=question, answer=answer, tags=kw.get("tags", ""),
                        policy_ref=kw.get("policy_ref", ""), visibility=kw.get("visibility", "public"),
                        effective_from=None, effective_to=kw.get("effective_to"), note=kw.get("note", ""))


@pytest.fixture
def people(app):
    return {"qa": factories.user("qa1", ["qa"], display_name="陈静"),
            "lead": factories.user("lead1", ["team_lead"], display_name="赵敏"),
            "lead2": factories.user("lead2", ["team_lead"], display_name="王强"),
            "agent": factories.user("agent1", ["agent"], display_name="李娜")}


def _published(author: User, reviewer: User, question: str, answer: str, **kw) -> KbArticle:
    version = services.save_draft(None, _input(question, answer, **kw), author)
    services.submit(version, author)
    services.review(version, reviewer, approve=True)
    return db.session.get(KbArticle, version.article_id)


MENTE = ("门诊特殊疾病待遇怎么申请？", "携带二级以上定点医院的诊断证明、病历资料和医保电子凭证，到参保地医保经办机构或通过"
         "甘肃医保小程序提交门诊特殊疾病认定申请，审核通过后在定点医院门诊按规定报销。")
REMOTE = ("异地就医备案怎么办理？", "可通过国家医保服务平台 APP 或甘肃医保小程序在线办理异地就医备案，选择备案类型与就医地，"
          "备案成功后在就医地定点医院住院可直接结算。")


def test_an_article_is_written_reviewed_by_someone_else_and_only_then_found(people):
    version = services.save_draft(None, _input(*MENTE, tags="门诊特殊疾病、慢特病"), people["qa"])
    assert search.search("门诊特殊疾病") == []  # a draft is nobody's answer yet
    services.submit(version, people["qa"])
    with pytest.raises(KbRefused, match="退回时请写明原因"):
        services.review(version, people["lead"], approve=False)
    services.review(version, people["lead"], approve=False, note="请补充办理渠道")
    assert version.state == "draft" and version.review_note == "请补充办理渠道"
    services.submit(version, people["qa"])
    services.review(version, people["lead"], approve=True)
    [hit] = search.search("门诊特殊疾病怎么申请")
    assert hit.article.question == MENTE[0] and hit.article.published_version.reviewer.username == "lead1"
    assert "<mark>门诊特殊疾病</mark>" in str(hit.highlight(hit.article.question))

    own = services.save_draft(hit.article, _input(MENTE[0], MENTE[1] + "认定结果 15 个工作日内告知。"), people["lead"])
    services.submit(own, people["lead"])
    with pytest.raises(KbRefused, match="不能审核自己"):
        services.review(own, people["lead"], approve=True)
    assert db.session.get(KbArticle, hit.article.id).answer == MENTE[1]  # the published text is untouched
    services.review(own, people["lead2"], approve=True)
    states = [v.state for v in services.versions(hit.article)]
    assert states == ["published", "superseded"]
    assert "15 个工作日" in db.session.get(KbArticle, hit.article.id).answer


def test_callers_words_find_the_article_through_synonyms_a_team_lead_adds(people, client, auth):
    _published(people["qa"], people["lead"], *MENTE)
    _published(people["qa"], people["lead"], *REMOTE)
    db.session.execute(KbSynonym.__table__.delete())
    db.session.commit()
    assert [h.article.question for h in search.search("我想问门慢怎么弄")] == []
    auth.login("lead1")
    token = csrf_token(client, "/kb/synonyms")
    client.post("/kb/synonyms", data={"terms": "门诊特殊疾病，门慢，门特", "csrf_token": token})
    assert db.session.scalar(select(KbSynonym.terms)) == "门诊特殊疾病,门慢,门特"
    assert [h.article.question for h in search.search("我想问门慢怎么弄")] == [MENTE[0]]
    page = client.get("/kb/?q=门慢怎么申请").get_data(as_text=True)
    assert "<mark>门诊特殊疾病</mark>待遇怎么<mark>申请</mark>？" in page


def test_filters_and_expired_articles(people):
    public = _published(people["qa"], people["lead"], *REMOTE)
    internal = _published(people["qa"], people["lead"], "异地就医来电派单到哪个部门？",
                          "异地就医备案类诉求派单至医保服务中心异地就医科，结算争议派单至待遇保障科。",
                          visibility="internal")
    old = _published(people["qa"], people["lead"], "2023 年异地就医备案临时政策",
                     "按 2023 年临时办法，异地就医备案可先就医后补备案。", effective_to=datetime(2024, 1, 1).date())
    found = {h.article.id for h in search.search("异地就医备案")}
    assert found == {public.id, internal.id}  # the expired one is not offered
    assert {h.article.id for h in search.search("异地就医备案", visibility="public")} == {public.id}
    assert old.id in {h.article.id for h in search.search("异地就医备案", include_expired=True)}
    assert old in services.expiring()


def test_an_inserted_answer_is_remembered_with_the_ticket(people, client, auth):
    article = _published(people["qa"], people["lead"], *REMOTE)
    factories.department("DY", "待遇保障科")
    auth.login("agent1")
    suggestions = client.get("/kb/suggest.json?q=我爸在外地住院备案怎么弄 异地就医").json["articles"]
    assert suggestions[0]["id"] == article.id and "<mark>" in suggestions[0]["question"]
    token = csrf_token(client, "/tickets/new")
    response = client.post("/tickets/new", data={
        "csrf_token": token, "caller_phone": "13800000001", "caller_name": "王先生", "channel": "phone",
        "category": "consultation", "urgency": "normal", "subject": "异地就医备案",
        "content": "父亲在外地住院，问备案怎么办理",
        "handling": "on_spot", "reply": suggestions[0]["answer"], "kb_article_id": str(article.id)})
    assert response.status_code == 302
    use = db.session.scalar(select(KbAnswerUse))
    assert use.article_id == article.id and use.ticket_id is not None and use.user_id == people["agent"].id
    assert use.version_id == article.published_version_id


def test_a_policy_change_must_be_published_within_one_working_day_across_the_holiday(people):
    mente = _published(people["qa"], people["lead"], *MENTE)
    remote = _published(people["qa"], people["lead"], *REMOTE)
    received = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)  # the afternoon before National Day
    with clock.frozen_at(datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)):
        assert [h.article.id for h in services.likely_affected("调整门诊特殊疾病认定办法", "")][0] == mente.id
        on_time = services.register_policy_change("调整门诊特殊疾病认定办法", "甘医保发〔2026〕30号", "", received,
                                                  [mente.id], people["lead"])
        late = services.register_policy_change("异地就医备案改为承诺制", "甘医保发〔2026〕31号", "", received,
                                               [remote.id], people["lead"])
    # 1 to 7 October are holidays: one working day after 30 Sept 16:00 is 8 October 16:00.
    assert on_time.due_at == datetime(2026, 10, 8, 16, 0, tzinfo=SHANGHAI)
    with clock.frozen_at(datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)):
        assert services.policy_status(on_time) == "pending"
        version = services.save_draft(mente, _input(MENTE[0], MENTE[1] + "（按 2026 年新办法认定）"), people["qa"])
        services.submit(version, people["qa"])
        services.review(version, people["lead"], approve=True)
    with clock.frozen_at(datetime(2026, 10, 9, 9, 30, tzinfo=SHANGHAI)):
        assert services.policy_status(late) == "overdue"
        version = services.save_draft(remote, _input(REMOTE[0], REMOTE[1] + "（改为承诺制）"), people["qa"])
        services.submit(version, people["qa"])
        services.review(version, people["lead"], approve=True)
        db.session.refresh(on_time)
        db.session.refresh(late)
        assert services.policy_status(on_time) == "on_time" and services.policy_status(late) == "late"
        figures = services.timeliness(datetime(2026, 9, 1, tzinfo=SHANGHAI), datetime(2026, 10, 1, tzinfo=SHANGHAI))
    assert figures == {"total": 2, "on_time": 1, "late": 1, "overdue": 0, "pending": 0, "rate": 0.5}


def test_articles_round_trip_through_excel_and_bad_rows_are_named(people, client, auth):
    _published(people["qa"], people["lead"], *REMOTE, tags="异地就医、备案")
    auth.login("lead1")
    exported = load_workbook(io.BytesIO(client.get("/kb/export.xlsx").data))
    rows = list(exported.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("分类", "问题", "答案") and rows[1][1] == REMOTE[0]

    book = Workbook()
    book.active.append(["分类", "问题", "答案", "标签", "政策依据", "生效日期", "失效日期", "可见范围"])
    book.active.append(["待遇报销/住院", "住院报销需要哪些材料？",
                        "出院时在定点医院直接结算，无需另行提交材料；手工报销需发票、费用清单、出院小结。",
                        "住院、报销", "", "2026-01-01", "", "公开"])
    book.active.append(["", "短", "太短", "", "", "", "", "公开"])
    book.active.append(["", "异地就医备案怎么办理？", REMOTE[1] + "也可拨打 12393 代办。", "", "", "", "", "秘密"])
    data = io.BytesIO()
    book.save(data)
    token = csrf_token(client, "/kb/import")
    page = client.post("/kb/import", data={"csrf_token": token, "file": (io.BytesIO(data.getvalue()), "kb.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "新建 1 篇" in page and "2 行有问题" in page
    assert re.search(r"<td>3</td><td[^>]*>问题至少 4 个字", page) and "可见范围应为" in page
    imported = db.session.scalar(select(KbArticleVersion).where(KbArticleVersion.question == "住院报销需要哪些材料？"))
    assert imported.state == "submitted" and imported.category.name == "住院"  # waits for review
    assert db.session.scalar(select(func.count(KbArticle.id))) == 2


def test_who_may_do_what_in_the_knowledge_base(people, client, auth):
    article = _published(people["qa"], people["lead"], *REMOTE)
    factories.user("handler_dy", ["dept_handler"], departments=[factories.department("DY", "待遇保障科")])
    auth.login("handler_dy")
    assert client.get(f"/kb/articles/{article.id}").status_code == 200
    assert client.get(f"/kb/articles/{article.id}/edit").status_code == 403
    auth.logout()
    auth.login("qa1")
    token = csrf_token(client, f"/kb/articles/{article.id}")
    assert client.post(f"/kb/versions/{article.published_version_id}/review",
                       data={"csrf_token": token, "decision": "approve"}).status_code == 403
    assert db.session.scalar(select(func.count(PolicyChange.id))) == 0
