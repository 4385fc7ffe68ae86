"""Looking at insured people: only with a reason (a ticket, a call, or a typed reason), always
masked unless revealed with a reason by a team lead, and every look in the access log that
auditors browse and export."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Person, PersonAccess, PersonChange, Ticket
from app.people.identity import parse_id_number
from tests import factories
from tests.conftest import csrf_token
from tests.people_helpers import person, valid_id
from workflows import engine
from workflows.audit_trail import Actor

FULL_ID = valid_id(1)
MASKED_ID = FULL_ID[:4] + "**********" + FULL_ID[-4:]
SECRETS = (FULL_ID, "13800000001", "8123456")
REASON = "来电人咨询本人参保状态，核实身份"


def _setup():
    agent = factories.user("agent1", ["agent"], display_name="李娜")
    factories.user("lead1", ["team_lead"], display_name="赵敏")
    factories.user("auditor1", ["auditor"], display_name="周敏")
    wang = person(id_number=FULL_ID, phones=["13800000001", "0931-8123456"])
    return agent, wang


def _accesses(action: str | None = None) -> list[PersonAccess]:
    query = select(PersonAccess).order_by(PersonAccess.id)
    return list(db.session.scalars(query.where(PersonAccess.action == action) if action else query))


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def _give_reason(client, person_id: int, reason: str = REASON):
    token = csrf_token(client, f"/people/{person_id}")
    return client.post(f"/people/{person_id}/access", data={"csrf_token": token, "reason": reason})


def _ticket(agent, phone: str = "13800000001") -> Ticket:
    return engine.start_ticket({"channel": "phone", "category": "consultation", "urgency": "normal",
                                "subject": "咨询住院报销进度", "content": "三月住院的报销款何时到账？",
                                "caller_phone": phone, "caller_name": "王先生"}, Actor(agent.id, "agent1", "agent"))


def test_an_agent_without_context_is_asked_for_a_reason_and_sees_nothing(client, auth):
    """No ticket, no call, no reason: a form asks why — not even the name is shown, nothing is logged.
    A too-short reason is refused; a real one opens the masked page and is logged with the look."""
    _, wang = _setup()
    auth.login("agent1")
    page = client.get(f"/people/{wang.id}").get_data(as_text=True)
    assert "请说明查询理由" in page
    assert "王建国" not in page and "6201" not in page and "138****" not in page
    assert _accesses() == []
    response = _give_reason(client, wang.id, "看看")
    assert response.status_code == 422 and "至少 4 个字" in response.get_data(as_text=True)
    assert "王建国" not in response.get_data(as_text=True) and _accesses() == []
    response = _give_reason(client, wang.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "王建国" in page and MASKED_ID in page and "138****0001" in page and "0931-***3456" in page
    assert f"理由：{REASON}" in page
    _no_secrets(page)
    client.get(f"/people/{wang.id}")  # every look is its own row
    views = _accesses("view")
    assert len(views) == 2 and all(v.reason == REASON and v.username == "agent1" and v.role == "agent" for v in views)
    assert views[0].person_id == wang.id and views[0].ip == "127.0.0.1"


def test_a_team_lead_needs_a_reason_too(client, auth):
    _, wang = _setup()
    auth.login("lead1")
    assert "请说明查询理由" in client.get(f"/people/{wang.id}").get_data(as_text=True)


def test_a_ticket_about_the_person_is_the_reason(client, auth):
    """A ticket called in from one of the person's numbers, or linked to them, opens the page and is
    recorded as the grounds; a ticket about someone else does not."""
    agent, wang = _setup()
    by_phone = _ticket(agent)
    linked = _ticket(agent, phone="13999999999")
    db.session.get(Ticket, linked.id).person_id = wang.id
    other = _ticket(agent, phone="13888888888")
    db.session.commit()
    auth.login("agent1")
    for ticket in (by_phone, linked):
        page = client.get(f"/people/{wang.id}?ticket={ticket.id}").get_data(as_text=True)
        assert "王建国" in page and f"工单 {ticket.number}" in page
        assert by_phone.number in page and linked.number in page  # the person's tickets are listed
    assert [a.ticket_id for a in _accesses("view")] == [by_phone.id, linked.id]
    page = client.get(f"/people/{wang.id}?ticket={other.id}").get_data(as_text=True)
    assert "请说明查询理由" in page and "无关联" in page and "王建国" not in page


def test_a_call_or_chat_reference_is_the_reason(client, auth):
    _, wang = _setup()
    auth.login("agent1")
    page = client.get(f"/people/{wang.id}?context=call:20261123-778").get_data(as_text=True)
    assert "王建国" in page and "来电 20261123-778" in page
    assert _accesses("view")[0].context == "call:20261123-778"
    page = client.get(f"/people/{wang.id}?context=<script>").get_data(as_text=True)
    assert "请说明查询理由" in page and "格式不正确" in page


def test_search_by_phone_id_number_or_name_masks_and_logs_every_hit(client, auth):
    _, wang = _setup()
    wangfang = person("王芳", id_number=valid_id(2), phones=["13800000001"])
    person("刘洋", id_number=valid_id(3), phones=["13900000003"])
    auth.login("agent1")
    page = client.get("/people/?q=138 0000 0001").get_data(as_text=True)
    assert "王建国" in page and "王芳" in page and "刘洋" not in page and MASKED_ID in page
    _no_secrets(page)
    hits = _accesses("search_hit")
    assert sorted(h.person_id for h in hits) == sorted([wang.id, wangfang.id])
    assert {h.detail for h in hits} == {"按电话号码查询"}
    token = csrf_token(client, "/people/")
    page = client.post("/people/", data={"csrf_token": token, "q": FULL_ID.lower()}).get_data(as_text=True)
    assert "王建国" in page and "王芳" not in page and MASKED_ID in page
    _no_secrets(page)
    assert "王建国" in client.get(f"/people/?q={FULL_ID}").get_data(as_text=True)  # links may still use ?q=
    page = client.get("/people/?q=0931-8123456&context=call:77").get_data(as_text=True)
    assert "王建国" in page and "context=call:77" in page  # links to the page keep the call as grounds
    assert _accesses("search_hit")[-1].context == "call:77"
    page = client.get("/people/?q=王建").get_data(as_text=True)
    assert "王建国" in page and "王芳" not in page
    before = len(_accesses())
    for query, problem in (("王", "至少输入 2 个字"), ("1380000", "只支持完整号码精确查询"),
                           (FULL_ID[:17] + "0" if FULL_ID[17] != "0" else FULL_ID[:17] + "1", "校验位错误")):
        assert problem in client.get("/people/", query_string={"q": query}).get_data(as_text=True)
    assert len(_accesses()) == before


def test_the_phone_lookup_answers_masked_json_for_the_intake_page(client, auth):
    """The intake page asks by the caller's number: masked fields, labels, and a link carrying the call."""
    _, wang = _setup()
    auth.login("agent1")
    response = client.get("/people/lookup.json?phone=138-0000-0001&context=call:778")
    assert response.status_code == 200
    _no_secrets(response.get_data(as_text=True))
    answer = response.get_json()
    assert answer["phone"] == "138****0001" and answer["count"] == 1
    found = answer["people"][0]
    assert found["id"] == wang.id and found["id_number"] == MASKED_ID and found["name"] == "王建国"
    assert found["insurance_type_label"] == "职工医保" and found["insured_status_label"] == "参保缴费"
    assert found["phones"] == ["138****0001", "0931-***3456"]
    assert found["url"] == f"/people/{wang.id}?context=call:778"
    assert [(a.action, a.context, a.detail) for a in _accesses()] == [("search_hit", "call:778", "来电号码查询")]
    assert "王建国" in client.get(found["url"]).get_data(as_text=True)  # the call opens the page
    bad = client.get("/people/lookup.json?phone=12345")
    assert bad.status_code == 400 and "格式不正确" in bad.get_json()["error"]
    assert client.get("/people/lookup.json?phone=13911112222").get_json() == {"phone": "139****2222", "count": 0,
                                                                                 "people": []}


def _reveal(client, person_id: int, reason: str):
    token = csrf_token(client, "/people/")
    return client.post(f"/people/{person_id}/reveal", data={"csrf_token": token, "reason": reason})


def test_revealing_full_numbers_needs_the_permission_and_a_reason(client, auth):
    """Agents may not reveal (403). A team lead reveals with a reason: the full numbers appear in
    that one response, the reveal is logged with its reason, and the next look is masked again."""
    _, wang = _setup()
    auth.login("agent1")
    assert _reveal(client, wang.id, "办理异地就医备案核对证件").status_code == 403
    auth.logout()
    auth.login("lead1")
    response = _reveal(client, wang.id, "短")
    assert response.status_code == 302 and _accesses("reveal") == []
    page = _reveal(client, wang.id, "办理异地就医备案核对证件").get_data(as_text=True)
    assert FULL_ID in page and "13800000001" in page and "0931-8123456" in page and "仅在本页显示这一次" in page
    [row] = _accesses("reveal")
    assert (row.username, row.person_id, row.reason) == ("lead1", wang.id, "办理异地就医备案核对证件")
    _give_reason(client, wang.id)
    _no_secrets(client.get(f"/people/{wang.id}").get_data(as_text=True))


def test_exporting_search_results_needs_a_reason_and_is_masked_and_logged(client, auth):
    _, wang = _setup()
    person("王芳", id_number=valid_id(2), phones=["13800000002"])
    auth.login("agent1")
    token = csrf_token(client, "/people/")
    page = client.post("/people/", data={"csrf_token": token, "q": "138 0000 0001"}).get_data(as_text=True)
    assert "138****0001" in page and "王建国" in page
    _no_secrets(page)  # the typed number is not echoed; the export form carries its lookup hash
    kind = re.search(r'name="kind" type="hidden" value="([^"]*)"', page).group(1)
    key = re.search(r'name="key" type="hidden" value="([^"]*)"', page).group(1)
    assert kind == "phone" and len(key) == 64
    refused = client.post("/people/export", data={"csrf_token": token, "kind": kind, "key": key, "reason": ""})
    assert refused.status_code == 422 and "请填写查询理由" in refused.get_data(as_text=True)
    response = client.post("/people/export", data={"csrf_token": token, "kind": kind, "key": key,
                                                   "reason": "核对重复登记"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:2] == ["姓名", "身份证号"] and cells[1][:2] == ["王建国", MASKED_ID]
    _no_secrets(json.dumps(cells, ensure_ascii=False))
    exports = _accesses("export")
    assert [(e.person_id, e.reason) for e in exports] == [(wang.id, "核对重复登记")]


def test_an_edit_records_every_change_old_to_new_with_identifiers_masked(client, auth):
    _, wang = _setup()
    auth.login("agent1")
    _give_reason(client, wang.id)
    landline = next(p for p in wang.phones if p.kind == "landline")
    token = csrf_token(client, f"/people/{wang.id}")
    form = {"csrf_token": token, "name": "王建国", "insurance_type": "employee", "insured_status": "suspended",
            "unit": "兰州市另一家公司", "region": "城关区", "notes": "", "new_id_number": valid_id(9),
            "add_phones": "139 0000 0009", "remove_phone_ids": str(landline.id)}
    bad = client.post(f"/people/{wang.id}/edit", data=form | {"new_id_number": "620102198001010000"})
    assert bad.status_code == 422 and "身份证号：身份证号校验位错误" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PersonChange)) == 0
    response = client.post(f"/people/{wang.id}/edit", data=form)
    assert response.status_code == 302
    history = {(c.field, c.old_value, c.new_value, c.user_id is not None) for c in db.session.scalars(select(PersonChange))}
    assert history == {
        ("insured_status", "参保缴费", "暂停参保", True), ("unit", "兰州市某某商贸有限公司", "兰州市另一家公司", True),
        ("id_number", MASKED_ID, valid_id(9)[:4] + "**********" + valid_id(9)[-4:], True),
        ("phone", "", "139****0009", True), ("phone", "0931-***3456", "", True),
    }
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "变更历史" in page and "暂停参保" in page and "139****0009" in page
    _no_secrets(page)
    assert valid_id(9) not in page
    [edit] = _accesses("edit")
    assert edit.reason == REASON and "参保状态" in edit.detail
    assert db.session.get(Person, wang.id).birth_date == parse_id_number(valid_id(9)).birth_date


def test_an_edit_without_grounds_changes_nothing(client, auth):
    _, wang = _setup()
    auth.login("agent1")
    token = csrf_token(client, "/people/")
    response = client.post(f"/people/{wang.id}/edit", data={"csrf_token": token, "name": "改名",
                                                             "insurance_type": "resident", "insured_status": "terminated"})
    assert response.status_code == 302 and db.session.get(Person, wang.id).name == "王建国"


def test_auditors_browse_filter_and_export_the_access_log(client, auth):
    _, wang = _setup()
    liu = person("刘洋", id_number=valid_id(3), phones=["13900000003"])
    auth.login("agent1")
    _give_reason(client, wang.id)
    client.get(f"/people/{wang.id}")
    client.get("/people/?q=13900000003")
    auth.logout()
    auth.login("lead1")
    _reveal(client, wang.id, "办理异地就医备案核对证件")
    auth.logout()
    auth.login("auditor1")
    page = client.get("/people/access-log").get_data(as_text=True)
    for expected in ("查看资料", "查询命中", "查看完整号码", REASON, "办理异地就医备案核对证件", MASKED_ID, "刘洋", "赵敏"):
        assert expected in page, expected
    _no_secrets(page)
    assert "赵敏" not in client.get("/people/access-log?username=agent1").get_data(as_text=True)
    reveal_only = client.get("/people/access-log?action=reveal").get_data(as_text=True)
    assert "查看完整号码" in reveal_only and REASON not in reveal_only
    by_person = client.get(f"/people/access-log?person={valid_id(3)}").get_data(as_text=True)
    assert "按电话号码查询" in by_person and REASON not in by_person
    by_id = client.get(f"/people/access-log?person={liu.id}").get_data(as_text=True)
    assert "按电话号码查询" in by_id and REASON not in by_id
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "没有记录" in client.get(f"/people/access-log?date_from={tomorrow}").get_data(as_text=True)
    response = client.get("/people/access-log.xlsx?username=agent1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:5] == ["时间", "用户", "角色", "来源 IP", "操作"] and len(cells) == 3  # a view, a search hit
    assert {row[4] for row in cells[1:]} == {"查看资料", "查询命中"}
    _no_secrets(json.dumps(cells, ensure_ascii=False))
    [export] = _accesses("export")
    assert export.username == "auditor1" and export.person_id is None and "2 条" in export.detail
    auth.logout()
    auth.login("agent1")
    assert client.get("/people/access-log").status_code == 403


def test_the_access_log_pages(client, auth):
    agent, wang = _setup()
    from app.people import access

    for _ in range(60):
        access.record(agent, "view", wang.id, access.Access(reason=REASON), "10.0.0.8")
    db.session.commit()
    auth.login("auditor1")
    first = client.get("/people/access-log").get_data(as_text=True)
    assert "第 1 / 2 页，共 60 条" in first
    assert "第 2 / 2 页" in client.get("/people/access-log?page=2").get_data(as_text=True)


def test_demo_data_holds_twenty_valid_people_including_the_ticket_callers_number(client, auth, app):
    from app.demo import seed_demo_data
    from app.people import crypto
    from app.people.services import id_number_of

    assert seed_demo_data()
    people = list(db.session.scalars(select(Person)))
    assert len(people) == 20
    assert all(parse_id_number(id_number_of(p)).birth_date == p.birth_date for p in people)
    auth.login("agent1", "demo12393")
    found = client.get("/people/lookup.json?phone=13800000001").get_json()
    assert [p["name"] for p in found["people"]] == ["王建国"]
    assert crypto.lookup_hash("13800000001", crypto.PHONE) in {ph.value_hash for p in people for ph in p.phones}


def test_the_phone_lookup_also_answers_a_post_so_the_number_stays_out_of_urls(client, auth):
    _, wang = _setup()
    auth.login("agent1")
    token = csrf_token(client, "/people/")
    response = client.post("/people/lookup.json", json={"phone": "13800000001", "context": "call:9"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["people"][0]["id"] == wang.id
    assert response.get_json()["people"][0]["url"] == f"/people/{wang.id}?context=call:9"
    assert client.post("/people/lookup.json", json={"phone": "13800000001"}).status_code == 400  # no CSRF token
