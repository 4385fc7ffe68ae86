"""A small world holding one of everything a route can name (a ticket and its task, an attachment,
an article, a call, a conversation, a shift …), for the stories that open every route: the
permission matrix and the abuse corpus. Registered for the whole suite by conftest.py."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    from workflows import engine
    from workflows.audit_trail import Actor

    dept = factories.department("DY", "待遇保障科")
    skill = factories.skill("en", "英语", "language")
    target = factories.user("target", ["agent"], departments=[dept])
    team = factories.team("一班")
    ticket = engine.start_ticket({"channel": "phone", "category": "consultation", "urgency": "normal",
                                  "subject": "咨询报销比例", "content": "门诊报销比例是多少？"},
                                 Actor(target.id, "target", "agent"))
    [task] = tasks_of(ticket.id)
    import io

    from werkzeug.datastructures import FileStorage

    from app.tickets import attachments

    attachment = attachments.add(ticket, target, FileStorage(io.BytesIO(b"%PDF-1.4 notice"), filename="回执.pdf"),
                                 Actor(target.id, "target", "agent"))
    from app.people import imports
    from tests.people_helpers import csv_bytes, person, valid_id

    insured = person()
    upload = imports.start(target, "参保人.csv", csv_bytes([["赵六", valid_id(2), "13900000002", "职工医保", "参保缴费"]]),
                           "strict")
    from app.extensions import db
    from app.knowledge import services as kb
    from app.knowledge.services import ArticleInput

    draft = kb.save_draft(None, ArticleInput(None, "异地就医备案怎么办理？", "通过国家医保服务平台 APP 在线办理备案。",
                                             "", "", "public", None, None), target)
    kb.publish(draft)  # published, so every role that may read the knowledge base reaches it
    from app.models import CallQueue, Contact

    queue = CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1)
    import struct

    (tmp_path / "pcaps").mkdir()  # an empty capture: the recording route answers with an empty WAV
    (tmp_path / "pcaps" / "call-1-0.pcap").write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    monkeypatch.setitem(app.config, "RECORDINGS_DIR", str(tmp_path))
    call = Contact(source="kamailio", call_id="call-1", caller="13800000001", state="ended", ivr_path="",
                   recording="pcaps/call-1-0.pcap")
    from app.models import IvrNode

    menu = IvrNode(kind="menu", label="欢迎", prompt="欢迎致电 12393")
    from app.models import CannedReply

    # a video session with its recording: a conversation like any, and its recording can be viewed
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "w1.webm").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(64))
    conversation = Contact(channel="video", source="video", call_id="w1:1", party="w1", state="ended", ivr_path="",
                           recording_consent=True, recording="video/w1.webm")
    canned = CannedReply(text="您好，请问有什么可以帮您？", position=1)
    from datetime import UTC, datetime

    from app.models import Shift

    shift = Shift(user_id=target.id, starts_at=datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
                  ends_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), label="早班")
    from datetime import date

    from app.models import AssessmentMark

    mark = AssessmentMark(month=date(2026, 12, 1), indicator="acw", item="note:1", kind="note", reason="备注",
                          author_id=target.id)
    from app.models import ReportFile

    report = ReportFile(kind="day", first=date(2026, 12, 1), fmt="xlsx", status="done", progress=100, content=b"xlsx")
    from app.models.quality import QaSample

    db.session.add_all([queue, call, menu, conversation, canned, shift, mark, report])
    db.session.flush()
    sample = QaSample(day=date(2026, 12, 1), agent_id=target.id, kind="call", contact_id=call.id)
    db.session.add(sample)
    db.session.commit()
    from app.models import IntegrationToken

    integration = IntegrationToken(name="一号交换机", prefix="hlt_abcdefgh", token_hash="0" * 64, scopes="cti")
    db.session.add(integration)
    db.session.commit()
    return {"article_id": draft.article_id, "version_id": draft.id,
            "dept_id": dept.id, "skill_id": skill.id, "user_id": target.id, "team_id": team.id,
            "ticket_id": ticket.id, "task_id": task, "attachment_id": attachment.id,
            "process_id": "ticket", "number": 1, "name": "ticket.bpmn", "person_id": insured.id,
            "import_id": upload.id, "queue_id": queue.id, "contact_id": call.id,
            "node_id": menu.id, "conversation_id": conversation.id, "reply_id": canned.id, "agent_id": target.id,
            "shift_id": shift.id, "code": "answer_rate", "mark_id": mark.id,
            "file_id": report.id, "sample_id": sample.id, "kind": "review", "token_id": integration.id}


def tasks_of(ticket_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OpenTask

    return db.session.scalars(select(OpenTask.id).where(OpenTask.ticket_id == ticket_id)).all()
