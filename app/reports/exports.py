"""Reports as files: PDF (WeasyPrint, the same HTML and charts as the page, in a CJK font) and
.xlsx (openpyxl, one sheet per table). The archive keeps every file built — on request, by a
background job with its progress, or by the 08:00 schedule (the day before's 日报)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from app.extensions import db
from app.models import ReportFile, User
from app.refusals import Refused
from app.timefmt import display_zone, local_today
from workflows import clock

log = logging.getLogger(__name__)

KINDS = {"day": "日报", "week": "周报", "month": "月报", "assessment": "月度考核"}
FORMATS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
DAILY_AT_HOUR = 8  # the day before's 日报 is archived from 08:00


class ExportRefused(Refused):
    """A report file that cannot be built as asked."""


def file_name(row: ReportFile) -> str:
    period = row.first.strftime("%Y-%m") if row.kind in ("month", "assessment") else row.first.isoformat()
    return f"{KINDS[row.kind]}-{period}.{row.fmt}"


def period_start(kind: str, day: date) -> date:
    """The first day of the report's period holding `day` (a week starts on Monday)."""
    from app.reports import operations

    return day.replace(day=1) if kind == "assessment" else operations.span(kind, day).first


def request_file(user: User | None, kind: str, day: date, fmt: str) -> ReportFile:
    """A file to build for the period holding `day`: stored as queued, then built by a background job."""
    if kind not in KINDS or fmt not in FORMATS:
        raise ExportRefused("报表类型或格式无效")
    first = period_start(kind, day)
    row = ReportFile(kind=kind, first=first, fmt=fmt, status="queued", progress=0,
                     requested_by=user.id if user else None, created_at=clock.now())
    db.session.add(row)
    db.session.commit()
    _enqueue_build(row.id)
    return row


BUILD_TIMEOUT = 600  # seconds a build may take
# A file still not built this long after it was asked for has lost its job (a worker killed while
# building, Redis restarted empty): the periodic recovery queues it again, at most once per this.
STALLED_AFTER = timedelta(seconds=BUILD_TIMEOUT + 300)


def _enqueue_build(file_id: int) -> None:
    """Queue the build; rq retries it twice if its worker dies mid-build. Redis being away loses
    nothing: the row waits, queued, for `requeue_stalled`."""
    from rq import Retry

    from app.jobs import enqueue

    enqueue("worker.jobs.build_report", file_id, job_timeout=BUILD_TIMEOUT, retry=Retry(max=2))


def requeue_stalled(now: datetime) -> list[int]:
    """Files asked for long ago and still not built (nor failed): queued again, each at most once per
    STALLED_AFTER (a mark in Redis says when it was last queued)."""
    import redis

    from app.redis_client import get_redis

    ids = db.session.scalars(select(ReportFile.id).where(ReportFile.status.in_(("queued", "running")),
                                                         ReportFile.created_at < now - STALLED_AFTER)).all()
    db.session.rollback()
    queued = []
    for file_id in ids:
        try:
            fresh = get_redis().set(f"hotline:requeued:report:{file_id}", "1", nx=True,
                                    ex=int(STALLED_AFTER.total_seconds()))
        except redis.RedisError:
            return queued
        if fresh:
            log.warning("report file %s had lost its build job; queued again", file_id)
            _enqueue_build(file_id)
            queued.append(file_id)
    return queued


def build(file_id: int) -> str:
    """The job: build the file, marking progress as it goes; a failure is kept with its reason."""
    row = db.session.get(ReportFile, file_id)
    if row is None or row.status == "done":
        return "missing" if row is None else "done"

    def progress(percent: int) -> None:
        row.progress = percent
        db.session.commit()

    row.status = "running"
    progress(5)
    try:
        row.content = _builders[(row.kind == "assessment", row.fmt)](row, progress)
    except Exception as exc:  # noqa: BLE001 - any failure is the file's, shown in the archive
        db.session.rollback()
        row = db.session.get(ReportFile, file_id)
        row.status, row.error = "failed", str(exc)[:255]
        db.session.commit()
        raise
    row.status, row.progress, row.finished_at = "done", 100, clock.now()
    db.session.commit()
    return "done"


def _operations_data(row: ReportFile, progress: Callable[[int], None]) -> dict:
    from app.reports import operations

    data = operations.report(row.kind, row.first)
    progress(60)
    return data


def _assessment_data(row: ReportFile, progress: Callable[[int], None]):
    from app.reports import assessment

    result = assessment.assess(row.first, clock.now())
    progress(60)
    return result


def _render(name: str, **context) -> str:
    """A report's HTML outside any request (the job has no signed-in user): the template alone,
    without the page's context processors."""
    from flask import current_app

    return current_app.jinja_env.get_template(name).render(**context)


def pdf_from_html(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _operations_pdf(row: ReportFile, progress) -> bytes:
    html = _render("reports/operations_pdf.html", **_operations_data(row, progress), generated=clock.now())
    return pdf_from_html(html)


def _assessment_pdf(row: ReportFile, progress) -> bytes:
    html = _render("reports/assessment_pdf.html", result=_assessment_data(row, progress), generated=clock.now())
    return pdf_from_html(html)


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(values)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = max(10, min(50, max(
            len(str(c.value or "")) * 2 for c in column)))


def _book_bytes(book: Workbook) -> bytes:
    del book[book.sheetnames[0]]  # the empty default sheet
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _operations_xlsx(row: ReportFile, progress) -> bytes:
    data = _operations_data(row, progress)
    calls, tickets, satisfaction = data["calls"], data["tickets"], data["satisfaction"]
    book = Workbook()
    _sheet(book, "概要", ["项目", "数值"], [
        ["报表", data["span"].title], ["联系量", data["volume"]["total"]], ["来电进入队列", calls["offered"]],
        ["接通", calls["answered"]], ["放弃", calls["abandoned"]], ["接通率", calls["answer_rate"]],
        [f"服务水平（{calls['service_level_seconds']} 秒）", calls["service_level"]],
        ["平均处理时长（秒）", calls["handle_seconds"]], ["平均话后处理（秒）", calls["acw_seconds"]],
        ["满意率（电话）", satisfaction["phone"]], ["在线满意率", satisfaction["chat"]], ["新建工单", tickets["count"]],
        ["重复派单率", tickets["redispatch_rate"]]])
    volume = data["volume"]
    _sheet(book, "联系量", ["时段"] + [name for name, _values in volume["series"]],
           [[label] + [values[i] for _name, values in volume["series"]] for i, label in enumerate(volume["labels"])])
    _sheet(book, "工单类别", ["类别", "工单"], [list(pair) for pair in tickets["by_category"]])
    _sheet(book, "承办部门", ["部门", "派单", "按时签收", "按时办结"],
           [[name, r["count"], r["accepted"], r["handled"]] for name, r in tickets["departments"]])
    _sheet(book, "热点问题", ["关键词", "本期", "上期"], [list(t) for t in data["hot"]["words"]])
    progress(90)
    return _book_bytes(book)


def _assessment_xlsx(row: ReportFile, progress) -> bytes:
    from app.reports import indicators

    result = _assessment_data(row, progress)
    book = Workbook()
    _sheet(book, "月度考核", ["指标", "本期", "分子", "分母", "目标与扣费标准", "扣费(元)", "重大事件", "计算", "定义"], [
        [line.evaluation.indicator.name,
         line.evaluation.figure.shown if line.evaluation.figure else line.evaluation.indicator.missing,
         line.evaluation.figure.numerator if line.evaluation.figure else None,
         line.evaluation.figure.denominator if line.evaluation.figure else None,
         line.evaluation.indicator.target, line.deduction.amount if line.deduction else None,
         "是" if line.deduction and line.deduction.major else "", line.deduction.how if line.deduction else "",
         line.evaluation.indicator.definition] for line in result.lines] + [["合计", "", "", "", "", result.total]])
    # the evidence: every indicator's records, one sheet each
    for line in result.lines:
        indicator = line.evaluation.indicator
        if not indicator.measured:
            continue
        detail = indicators.detail(indicator, result.period)
        _sheet(book, indicator.name[:30], list(detail.columns) + ["计入"],
               [r.cells + ["是" if r.counted else "已排除"] for r in detail.rows])
    progress(90)
    return _book_bytes(book)


_builders = {(False, "pdf"): _operations_pdf, (False, "xlsx"): _operations_xlsx,
             (True, "pdf"): _assessment_pdf, (True, "xlsx"): _assessment_xlsx}


def archive(limit: int = 200) -> list[ReportFile]:
    return list(db.session.scalars(select(ReportFile).order_by(ReportFile.created_at.desc(), ReportFile.id.desc())
                                   .limit(limit)))


def schedule_daily(now: datetime) -> ReportFile | None:
    """From 08:00, the day before's 日报 (PDF) is built once into the archive."""
    local = now.astimezone(display_zone())
    if local.hour < DAILY_AT_HOUR:
        return None
    yesterday = local_today(now) - timedelta(days=1)
    done = db.session.scalar(select(ReportFile.id).where(ReportFile.kind == "day", ReportFile.first == yesterday,
                                                         ReportFile.requested_by.is_(None)))
    if done is not None:
        return None
    return request_file(None, "day", yesterday, "pdf")
