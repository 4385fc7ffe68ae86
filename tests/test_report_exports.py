"""运营报表 and 报表归档: a day's report from hand-built contacts and tickets (by hour and channel,
by category, departments on time, hot words against the day before); PDF (in a Chinese font) and
Excel files built by the background job, kept and downloaded; the 08:00 daily archive."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, ReportFile, SlaEvent, Ticket
from app.reports import exports, operations
from tests import factories
from tests.conftest import csrf_token
from tests.test_reports import NOW, december  # noqa: F401 - the hand-built month, shared
from workflows import clock

BEIJING = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 12, 8, tzinfo=BEIJING)


def at(hour: int, minute: int = 0, day: datetime = DAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.fixture
def tuesday(app):
    agent = factories.user("li", ["agent"])
    dy = factories.department("DY", "待遇保障科")
    for n, (hour, channel) in enumerate([(9, "phone"), (9, "phone"), (9, "wechat"), (14, "web"), (23, "phone")]):
        db.session.add(Contact(channel=channel, source="t", call_id=f"t{n}", ivr_path="", state="ended",
                               started_at=at(hour, n), party=f"p{n}" if channel != "phone" else None))
    db.session.commit()
    subjects = [("异地就医备案怎么办理", "consultation"), ("异地就医报销比例", "consultation"),
                ("投诉窗口态度差", "complaint")]
    ids = []
    for subject, category in subjects:
        ticket = db.session.get(Ticket, factories.ticket_started(agent))
        ticket.subject, ticket.category, ticket.created_at = subject, category, at(10)
        ticket.department_id = dy.id
        ids.append(ticket.id)
    # the day before: one question about 异地就医
    before = db.session.get(Ticket, factories.ticket_started(agent))
    before.subject, before.created_at = "异地就医需要什么材料", at(10, day=DAY - timedelta(days=1))
    db.session.get(Ticket, ids[2]).redispatch_count = 1
    db.session.add(SlaEvent(ticket_id=ids[0], kind="handle_overdue", due_at=at(17), occurred_at=at(17)))
    db.session.commit()
    return ids


def pdf_objects(data: bytes) -> bytes:
    """A PDF's objects with their compressed streams opened (font names live in object streams)."""
    import re
    import zlib

    opened = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            opened.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"".join(opened)


def test_a_days_operations_report_from_hand_built_records(tuesday):
    report = operations.report("day", DAY.date())
    volume = dict(report["volume"]["series"])
    assert report["volume"]["total"] == 5
    assert volume["电话"][9] == 2 and volume["电话"][23] == 1 and volume["微信"][9] == 1 and volume["网页"][14] == 1
    tickets = report["tickets"]
    assert tickets["count"] == 3 and dict(tickets["by_category"]) == {"咨询": 2, "投诉": 1}
    assert tickets["redispatch_rate"] == pytest.approx(1 / 3)
    [(name, row)] = tickets["departments"]
    assert (name, row["count"], row["accepted"], row["handled"]) == ("待遇保障科", 3, 3, 2)
    words = {w: (now, before) for w, now, before in report["hot"]["words"]}
    assert words["异地就医"] == (2, 1)


def test_the_report_page_draws_its_charts(client, auth, tuesday):
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    page = client.get("/reports/operations", query_string={"kind": "day", "day": "2026-12-08"}).get_data(as_text=True)
    assert "2026-12-08 日报" in page and page.count("<svg") == 2
    assert "<title>09 电话 2</title>" in page and "待遇保障科" in page and "异地就医" in page
    week = client.get("/reports/operations", query_string={"kind": "week", "day": "2026-12-09"}).get_data(as_text=True)
    assert "2026-12-07 起周报" in week and "<title>12-08 电话 3</title>" in week


def test_pdf_and_excel_files_are_built_in_the_background_kept_and_downloaded(client, auth, tuesday):
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    token = csrf_token(client, "/reports/archive")
    for fmt in ("pdf", "xlsx"):
        answer = client.post("/reports/archive", data={"csrf_token": token, "kind": "day", "day": "2026-12-08",
                                                       "format": fmt}, follow_redirects=True)
        assert "报表正在后台生成，完成后可在此下载。" in answer.get_data(as_text=True)
    files = db.session.scalars(select(ReportFile).order_by(ReportFile.id)).all()
    assert [(f.kind, f.fmt, f.status) for f in files] == [("day", "pdf", "queued"), ("day", "xlsx", "queued")]
    assert "排队中" in client.get("/reports/archive").get_data(as_text=True)
    for f in files:  # what the worker does
        assert exports.build(f.id) == "done"
    pdf = client.get(f"/reports/archive/{files[0].id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"CJK" in pdf_objects(pdf.data)  # the Chinese text is set in a Chinese font (Noto … CJK)
    assert "filename*=UTF-8''%E6%97%A5%E6%8A%A5-2026-12-08.pdf" in pdf.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(client.get(f"/reports/archive/{files[1].id}").data))
    assert book.sheetnames == ["概要", "联系量", "工单类别", "承办部门", "热点问题"]
    summary = {row[0].value: row[1].value for row in book["概要"].iter_rows(min_row=2)}
    assert summary["联系量"] == 5 and summary["新建工单"] == 3
    assert [c.value for c in book["承办部门"][2]] == ["待遇保障科", 3, 3, 2]


def test_the_assessment_exports_its_evidence_sheet_by_sheet(app, december):  # noqa: F811
    row = exports.request_file(None, "assessment", NOW.date().replace(day=1), "xlsx")
    with clock.frozen_at(NOW):
        exports.build(row.id)
    db.session.expire_all()
    book = load_workbook(io.BytesIO(db.session.get(ReportFile, row.id).content))
    assert book.sheetnames[0] == "月度考核" and "接通率" in book.sheetnames and "人工挂机时长" in book.sheetnames
    total = [r for r in book["月度考核"].iter_rows(values_only=True) if r[0] == "合计"]
    assert total[0][5] == 12_300
    assert len(list(book["接通率"].iter_rows(min_row=2))) == 5
    pdf = exports.request_file(None, "assessment", NOW.date().replace(day=1), "pdf")
    with clock.frozen_at(NOW):
        assert exports.build(pdf.id) == "done"


def test_the_days_report_is_archived_once_from_eight_oclock(app):
    assert exports.schedule_daily(at(7, 59)) is None
    made = exports.schedule_daily(at(8, 5))
    assert (made.kind, made.first, made.fmt, made.requested_by) == ("day", (DAY - timedelta(days=1)).date(), "pdf", None)
    assert exports.schedule_daily(at(8, 10)) is None  # once a day


def test_a_file_that_fails_says_why(app, monkeypatch):
    row = exports.request_file(None, "day", DAY.date(), "pdf")

    def broken(html):
        raise OSError("字体缺失")

    monkeypatch.setattr(exports, "pdf_from_html", broken)
    with pytest.raises(OSError):
        exports.build(row.id)
    db.session.expire_all()
    failed = db.session.get(ReportFile, row.id)
    assert (failed.status, failed.error) == ("failed", "字体缺失")
    assert db.session.scalar(select(Contact.id)) is None


def test_a_file_whose_build_job_was_lost_is_queued_again_once_and_built(app):
    """Redis restarted without its queues (or a worker died past rq's retries): the row still says
    queued, and the periodic recovery queues its build again — once, not on every sweep."""
    from rq import Queue, SimpleWorker

    from app.redis_client import get_redis

    row = exports.request_file(None, "day", DAY.date(), "xlsx")
    asked = row.created_at
    queue = Queue("default", connection=get_redis())
    assert queue.count == 1
    queue.empty()  # the job is gone; the row is not
    assert exports.requeue_stalled(asked + timedelta(minutes=10)) == []  # a build may take that long
    assert exports.requeue_stalled(asked + timedelta(minutes=16)) == [row.id]
    assert exports.requeue_stalled(asked + timedelta(minutes=17)) == []
    assert queue.count == 1
    SimpleWorker([queue], connection=get_redis()).work(burst=True)
    db.session.expire_all()
    assert db.session.get(ReportFile, row.id).status == "done"
