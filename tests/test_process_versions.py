"""Drafts, publishing, roll-back, download and import of the ticket process, over HTTP as a manager:
every save is kept, only a clean draft is published, publication is audited, a roll-back is a new
version that new tickets take while running tickets stay where they are."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, ProcessDraft, ProcessInstance, ProcessVersion
from tests import factories
from tests.conftest import csrf_token
from tests.loop import COMPLAINT, staff
from workflows import audit_trail, engine, specs

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "bpmn"


@pytest.fixture
def manager(app, client, auth):
    factories.user("manager1", ["manager"], display_name="周敏")
    factories.user("manager2", ["manager"], display_name="陈刚")
    auth.login("manager1")
    return client


def _token(client) -> str:
    page = client.get("/processes/ticket/editor").get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def _post(client, url, body):
    return client.post(url, json=body, headers={"X-CSRFToken": _token(client)})


def _renamed(files: dict, old: str, new: str) -> dict:
    changed = dict(files)
    changed["ticket.bpmn"] = changed["ticket.bpmn"].replace(old, new)
    assert changed != files
    return changed


def test_every_save_is_kept_and_a_clean_draft_is_published_with_its_reason(manager):
    files = specs.bundled_files()
    first = _post(manager, "/processes/ticket/draft", {"files": _renamed(files, 'name="回访"', 'name="电话回访"'),
                                                      "draft_id": None, "based_on_version": 1})
    assert first.status_code == 200 and first.json["problems"] == []
    second = _post(manager, "/processes/ticket/draft", {
        "files": _renamed(files, 'name="回访"', 'name="满意度回访"'), "draft_id": first.json["draft_id"],
        "based_on_version": 1})
    assert second.status_code == 200
    assert db.session.scalar(select(func.count(ProcessDraft.id))) == 2  # the first save is still there

    no_reason = _post(manager, "/processes/ticket/publish", {"draft_id": second.json["draft_id"], "note": " "})
    assert no_reason.status_code == 400 and "发布说明" in no_reason.json["error"]
    stale = _post(manager, "/processes/ticket/publish", {"draft_id": first.json["draft_id"], "note": "改名"})
    assert stale.status_code == 409
    published = _post(manager, "/processes/ticket/publish", {"draft_id": second.json["draft_id"], "note": "回访改名"})
    assert published.status_code == 200 and published.json["version"] == 2

    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
    assert version.note == "回访改名" and version.published_by.username == "manager1"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "process.published"))
    assert json.loads(entry.data_json)["changes"].startswith("新增 0 个元素，修改 1 个")
    assert audit_trail.verify().ok
    page = manager.get("/processes/").get_data(as_text=True)
    assert "第 2 版" in page and "回访改名" in page and "周敏" in page


def test_a_draft_with_problems_is_saved_but_never_published(manager):
    broken = _renamed(specs.bundled_files(), "archived = True", "import os\narchived = True")
    saved = _post(manager, "/processes/ticket/draft", {"files": broken, "draft_id": None, "based_on_version": 1})
    assert saved.status_code == 200
    assert [p["element_id"] for p in saved.json["problems"]] == ["archive"]
    refused = _post(manager, "/processes/ticket/publish", {"draft_id": saved.json["draft_id"], "note": "试试"})
    assert refused.status_code == 422 and refused.json["problems"][0]["element_id"] == "archive"
    assert db.session.scalar(select(func.max(ProcessVersion.version))) == 1
    assert db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "process.published")) is None


def test_two_managers_do_not_overwrite_each_other(manager, app):
    files = specs.bundled_files()
    mine = _post(manager, "/processes/ticket/draft", {"files": files, "draft_id": None, "based_on_version": 1})
    assert mine.status_code == 200
    other = app.test_client()
    other.post("/login", data={"username": "manager2", "password": factories.PASSWORD,
                               "csrf_token": csrf_token(other, "/login")})
    theirs = _post(other, "/processes/ticket/draft", {"files": files, "draft_id": None, "based_on_version": 1})
    assert theirs.status_code == 409 and "周敏" in theirs.json["error"]


def test_bad_files_are_refused_at_the_edge(manager):
    for files, words in (({}, "没有流程文件"), ({"../etc/passwd": "x"}, "不合规"), ({"forms/a.json": "{}"}, "至少要有一个"),
                         ({"ticket.bpmn": 5}, "不是文本")):
        response = _post(manager, "/processes/ticket/draft", {"files": files, "draft_id": None})
        assert response.status_code == 400 and words in response.json["error"]
    assert db.session.scalar(select(func.count(ProcessDraft.id))) == 0


def test_rolling_back_publishes_the_old_files_as_a_new_version_and_running_tickets_stay(manager):
    s = staff()
    files = specs.bundled_files()
    draft = _post(manager, "/processes/ticket/draft", {
        "files": _renamed(files, 'name="回访"', 'name="电话回访"'), "draft_id": None, "based_on_version": 1})
    _post(manager, "/processes/ticket/publish", {"draft_id": draft.json["draft_id"], "note": "回访改名"})
    on_v2 = engine.start_ticket(COMPLAINT, s.agent)
    db.session.commit()

    token = _token(manager)
    response = manager.post("/processes/ticket/versions/1/rollback", data={"note": "改名引起误解", "csrf_token": token},
                            follow_redirects=True)
    assert "已回滚" in response.get_data(as_text=True)
    v3 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.version == 3))
    assert v3.restored_from == 1 and json.loads(v3.files_json) == files
    assert specs.latest_version().id == v3.id
    on_v3 = engine.start_ticket(COMPLAINT, s.agent)
    db.session.commit()
    versions = dict(db.session.execute(select(ProcessInstance.ticket_id, ProcessInstance.version_id)).all())
    assert versions[on_v2.id] != v3.id and versions[on_v3.id] == v3.id
    rolled = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "process.rolled_back"))
    assert json.loads(rolled.data_json)["restored_from"] == 1


def test_any_version_downloads_as_files_and_as_a_zip(manager):
    specs.latest_version()
    db.session.commit()
    one = manager.get("/processes/ticket/versions/1/files/ticket.bpmn")
    assert one.status_code == 200 and one.get_data(as_text=True) == specs.bundled_files()["ticket.bpmn"]
    assert "ticket-v1-ticket.bpmn" in one.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(manager.get("/processes/ticket/versions/1.zip").data))
    assert set(archive.namelist()) == set(specs.bundled_files())
    assert manager.get("/processes/ticket/versions/1/files/nothing.bpmn").status_code == 404


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures is not beside the repository")
def test_an_import_becomes_a_draft_file_and_a_bad_upload_changes_nothing(manager):
    token = _token(manager)
    data = (FIXTURES / "camunda-invoice-approval.bpmn").read_bytes()
    response = manager.post("/processes/ticket/import", data={"file": (io.BytesIO(data), "invoice.bpmn"), "target": "",
                                                             "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 302 and "file=invoice.bpmn" in response.headers["Location"]
    draft = db.session.scalar(select(ProcessDraft))
    assert "invoice.bpmn" in json.loads(draft.files_json) and json.loads(draft.problems_json)

    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    response = manager.post("/processes/ticket/import", data={"file": (io.BytesIO(bomb), "bomb.bpmn"), "target": "",
                                                             "csrf_token": token}, follow_redirects=True)
    assert "拒绝导入" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ProcessDraft.id))) == 1


def test_only_managers_reach_the_editor(app, client, auth):
    factories.user("agent1", ["agent"])
    auth.login("agent1")
    assert client.get("/processes/").status_code == 403
    assert client.get("/processes/ticket/editor").status_code == 403
