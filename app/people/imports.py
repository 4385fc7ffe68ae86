"""Batch imports of insured people: upload → check every row (the preview) → commit.

Files under ASYNC_ROWS rows are checked in the request and committed in one transaction. From
ASYNC_ROWS rows on, checking and writing each run as an rq job that updates `progress`; writing
then commits per chunk of CHUNK_ROWS rows together with the progress, so the page shows exactly
what is written and a stopped job can simply run again (writing is an upsert by ID number: a
row already written changes nothing the second time). Strict mode writes nothing when any row
failed its check — every row is checked before the first write. The writing itself, fast and
idempotent, is app/people/import_writer.py.

What waits between the steps lives in the instance folder, encrypted with the data key: the
uploaded file (only until it is checked) and the checked rows (until committed or discarded).
The error report (.xlsx: row, field, problem) and the preview hold no full identifier.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from pathlib import Path

from flask import current_app
from openpyxl import Workbook
from sqlalchemy import select

from app.extensions import db
from app.models import PersonImport, User
from app.models.people import INSURANCE_TYPES, INSURED_STATUSES
from app.models.types import utcnow
from app.people import crypto, import_writer, importer
from app.people.identity import mask

log = logging.getLogger(__name__)

ASYNC_ROWS = 5000
CHUNK_ROWS = 1000
PREVIEW_ROWS = 100
PREVIEW_PROBLEMS = 500
JOB_TIMEOUT = 3 * 3600
FOLDER = "people_imports"
KINDS = {".xlsx": "xlsx", ".csv": "csv"}


class ImportRefused(Exception):
    """The step cannot be taken now; the message says why, in Chinese."""


def _folder() -> Path:
    path = Path(current_app.instance_path) / FOLDER
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _file(imp: PersonImport, suffix: str) -> Path:
    return _folder() / f"{imp.id}{suffix}"


def _write_secret(path: Path, data: bytes) -> None:
    path.write_bytes(crypto.encrypt_bytes(data, crypto.IMPORT_FILE))


def _read_secret(path: Path) -> bytes:
    return crypto.decrypt_bytes(path.read_bytes(), crypto.IMPORT_FILE)


def report_file(imp: PersonImport) -> Path | None:
    if not imp.report_path:
        return None
    path = Path(current_app.instance_path) / imp.report_path
    return path if path.exists() else None


def preview_of(imp: PersonImport) -> dict | None:
    if imp.status == "validating":
        return None
    path = _file(imp, "-preview.json")
    return json.loads(path.read_text()) if path.exists() else None


# --- upload and check ------------------------------------------------------------------------------
def start(user: User, filename: str, data: bytes, mode: str, background: bool = True) -> PersonImport:
    """Record the upload and check it — here for a small file, as a job for a large one
    (`background=False` runs the job's own code here: the benchmark, the CLI)."""
    kind = KINDS.get(Path(filename.lower()).suffix)
    if kind is None:
        raise ImportRefused("只支持 Excel (.xlsx) 或 CSV (.csv) 文件。")
    if not data:
        raise ImportRefused("上传的文件是空的。")
    imp = PersonImport(filename=Path(filename).name[:255], sha256=hashlib.sha256(data).hexdigest(), file_kind=kind,
                       mode=mode if mode in ("strict", "lenient") else "strict", status="validating",
                       created_by_id=user.id, created_at=utcnow(), started_at=utcnow())
    db.session.add(imp)
    db.session.commit()
    _remove_stale_files(imp)
    try:
        table = importer.read_table(data, kind, limit=ASYNC_ROWS - 1)  # truncated: ASYNC_ROWS or more
    except importer.FileRefused as exc:
        _finish(imp, "refused", str(exc))
        return imp
    if table.truncated:
        _write_secret(_file(imp, ".upload"), data)
        if background:
            _enqueue(imp, "worker.people_import.validate")
        else:
            run_validation(imp.id)
    else:
        try:
            _check(imp, table, progress=False)
        except Exception:
            _fail(imp.id, "校验时发生系统错误，请联系系统管理员或重新上传。")
            raise
    return imp


def earlier_imports_of(imp: PersonImport) -> list[PersonImport]:
    query = select(PersonImport).where(PersonImport.sha256 == imp.sha256, PersonImport.id != imp.id)
    return list(db.session.scalars(query.order_by(PersonImport.id.desc()).limit(5)))


def run_validation(import_id: int) -> None:
    """The job behind a large upload: read the whole file, check every row, make the preview."""
    imp = db.session.get(PersonImport, import_id)
    if imp is None or imp.status != "validating":
        return
    try:
        upload = _file(imp, ".upload")
        table = importer.read_table(_read_secret(upload), imp.file_kind)
        _check(imp, table, progress=True)
        upload.unlink(missing_ok=True)
    except importer.FileRefused as exc:
        _finish(imp, "refused", str(exc))
    except Exception:
        _fail(import_id, "校验时发生系统错误，请联系系统管理员或重新上传。")
        raise


def _check(imp: PersonImport, table: importer.Table, progress: bool) -> None:
    if progress:
        import_writer.refresh_statistics()  # the preview looks up every row among the people already there
    result = importer.validate_rows(table, crypto.keys(), brief_rows=PREVIEW_ROWS)
    imp.total_rows, imp.valid_rows, imp.invalid_rows = result.total, len(result.valid), result.invalid_rows
    first_rows = {number for number, _ in table.rows[:PREVIEW_ROWS]}
    counts = {"new": 0, "update": 0, "unchanged": 0}
    shown: dict[int, dict] = {}
    for start_at in range(0, len(result.valid), CHUNK_ROWS):
        chunk = result.valid[start_at:start_at + CHUNK_ROWS]
        existing = import_writer.existing(chunk)
        for row in chunk:
            snapshot = existing.get(row.id_hash)
            changes, phones = import_writer.differences(row, snapshot) if snapshot else ({}, [])
            action = "new" if snapshot is None else ("update" if changes or phones else "unchanged")
            counts[action] += 1
            if row.row in first_rows:
                labels = [importer.COLUMN_LABELS[f] for f in changes] + (["联系电话"] if phones else [])
                shown[row.row] = {"row": row.row, "name": row.name, "id": mask(row.id_number),
                                  "phones": [mask(v) for _k, v, _h in row.phones],
                                  "type": INSURANCE_TYPES[row.insurance_type],
                                  "status": INSURED_STATUSES[row.insured_status],
                                  "action": action, "changes": labels}
        if progress:
            imp.progress = min(99, (start_at + len(chunk)) * 100 // max(len(result.valid), 1))
            db.session.commit()
    for number, (name, masked) in result.briefs.items():
        shown[number] = {"row": number, "name": name, "id": masked, "phones": [], "type": "", "status": "",
                         "action": "invalid", "changes": []}
    imp.created_rows, imp.updated_rows = counts["new"], counts["update"]
    _write_secret(_file(imp, ".rows"), json.dumps([_row_to_list(r) for r in result.valid]).encode())
    if result.problems:
        imp.report_path = f"{FOLDER}/{imp.id}-errors.xlsx"
        _error_report(result.problems, Path(current_app.instance_path) / imp.report_path)
    preview = {"counts": counts, "rows": [shown[n] for n in sorted(shown)],
               "problems": [[p.row, p.field, p.message] for p in result.problems[:PREVIEW_PROBLEMS]],
               "problems_total": len(result.problems)}
    _file(imp, "-preview.json").write_text(json.dumps(preview, ensure_ascii=False))
    imp.status, imp.progress = "previewed", 100
    db.session.commit()


def _error_report(problems: list[importer.Problem], path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("错误清单")
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 8, 12
    sheet.column_dimensions["C"].width = 70
    sheet.append(["行号", "字段", "问题"])
    for problem in problems:
        sheet.append([problem.row, problem.field, problem.message])
    book.save(path)


# --- commit -------------------------------------------------------------------------------------------
def committable(imp: PersonImport) -> bool:
    """Checked rows wait to be written: after the preview, or after a write that failed. An import
    whose check failed has none; only a new upload helps it."""
    return imp.status in ("previewed", "failed") and _file(imp, ".rows").exists()


def commit(user: User, imp: PersonImport, mode: str, background: bool = True) -> str:
    """Write the checked rows (here, or as a job for a large file); returns what happened, in Chinese."""
    if not committable(imp):
        raise ImportRefused(f"该批次当前状态为“{imp.status_label}”，不能导入。")
    imp.mode = mode if mode in ("strict", "lenient") else imp.mode
    imp.committed_by_id = user.id
    if imp.mode == "strict" and imp.invalid_rows:
        _discard_files(imp)
        _finish(imp, "refused", f"严格模式：文件中有 {imp.invalid_rows} 行未通过校验，未写入任何数据。"
                                "请修改后重新上传，或选择宽松模式只导入正确的行。")
        return imp.message or ""
    if imp.valid_rows >= ASYNC_ROWS:
        imp.status, imp.progress, imp.written_rows = "committing", 0, 0
        db.session.commit()
        if background:
            _enqueue(imp, "worker.people_import.commit")
            return f"共 {imp.valid_rows} 行，已转入后台导入，可在本页查看进度。"
        run_commit(imp.id, chunked=True)
        return f"导入完成：新增 {imp.created_rows} 人，更新 {imp.updated_rows} 人。"
    imp.status = "committing"
    try:
        run_commit(imp.id, chunked=False)
    except Exception:  # logged and recorded on the import by run_commit
        raise ImportRefused(imp.message or "导入失败。") from None
    unchanged = imp.valid_rows - imp.written_rows
    return f"导入完成：新增 {imp.created_rows} 人，更新 {imp.updated_rows} 人，无变化 {unchanged} 人。"


def run_commit(import_id: int, chunked: bool = True) -> None:
    """Write every checked row: one transaction per chunk (a job), or one for the whole file."""
    imp = db.session.get(PersonImport, import_id)
    if imp is None or imp.status != "committing":
        return
    try:
        rows = [_row_from_list(item) for item in json.loads(_read_secret(_file(imp, ".rows")))]
        if imp.mode == "strict" and imp.invalid_rows:  # never reached through commit(); kept as the rule
            _finish(imp, "refused", "严格模式：存在未通过校验的行，未写入任何数据。")
            return
        keys, now = crypto.keys(), utcnow()
        imp.started_at, imp.created_rows, imp.updated_rows, imp.written_rows = now, 0, 0, 0
        analyzed_at = 0
        for start_at in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start_at:start_at + CHUNK_ROWS]
            created, updated = import_writer.write_chunk(chunk, imp, keys)
            imp.created_rows += created
            imp.updated_rows += updated
            imp.written_rows = imp.created_rows + imp.updated_rows
            imp.progress = min(99, (start_at + len(chunk)) * 100 // len(rows))
            if chunked:
                db.session.commit()
                if imp.created_rows >= 2 * max(analyzed_at, CHUNK_ROWS):
                    analyzed_at = imp.created_rows
                    import_writer.refresh_statistics()
            else:
                db.session.flush()
        _file(imp, ".rows").unlink(missing_ok=True)
        _finish(imp, "done", None)
    except Exception:
        _fail(import_id, "写入时发生系统错误，已写入的部分保持不变（重复导入不会重复写入），请重新执行导入。")
        raise


def discard(imp: PersonImport) -> None:
    if imp.status not in ("previewed", "failed", "refused"):
        raise ImportRefused(f"该批次当前状态为“{imp.status_label}”，不能放弃。")
    _discard_files(imp)
    if imp.status != "refused":
        _finish(imp, "discarded", None)


# --- bookkeeping -----------------------------------------------------------------------------------
def _row_to_list(row: importer.ValidRow) -> list:
    return [row.row, row.name, row.id_number, row.id_hash, row.birth_date.isoformat(), row.gender,
            [list(p) for p in row.phones], row.insurance_type, row.insured_status, row.unit, row.region, row.notes]


def _row_from_list(item: list) -> importer.ValidRow:
    number, name, id_number, id_hash, born, gender, phones, kind, status, unit, region, notes = item
    return importer.ValidRow(number, name, id_number, id_hash, date.fromisoformat(born), gender,
                             [tuple(p) for p in phones], kind, status, unit, region, notes)


# --- recovery --------------------------------------------------------------------------------------
JOBS = {"validating": "worker.people_import.validate", "committing": "worker.people_import.commit"}
LOST_JOB_STATUSES = ("failed", "stopped", "canceled")  # a job that died with its worker ends as failed
MAX_REQUEUES = 2


def requeue_lost() -> list[int]:
    """Large imports whose job is gone (Redis restarted empty) or died with its worker are queued
    again: checking and writing both simply run again. Asked by rq, not by the clock, since a large
    file may rightly take hours. After MAX_REQUEUES the import is marked failed, so the page stops
    waiting for a job that keeps dying."""
    import redis
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from app.redis_client import get_redis

    waiting = db.session.scalars(select(PersonImport).where(PersonImport.status.in_(tuple(JOBS)),
                                                            PersonImport.job_id.is_not(None))).all()
    requeued, connection = [], get_redis()
    for imp in waiting:
        try:
            try:
                status = Job.fetch(imp.job_id, connection=connection).get_status()
            except NoSuchJobError:
                status = None
            if status is not None and status not in LOST_JOB_STATUSES:
                continue
            mark = f"hotline:requeued:import:{imp.id}"
            attempts = connection.incr(mark)
            connection.expire(mark, 7 * 86400)
        except redis.RedisError:
            break  # Redis away: the next sweep asks again
        if attempts > MAX_REQUEUES:
            _finish(imp, "failed", "后台任务多次中断，未能完成。" + (
                "请重新上传文件。" if imp.status == "validating"
                else "已写入的部分保持不变（重复导入不会重复写入），请重新执行导入。"))
            continue
        log.warning("person import %s had lost its job (%s); queued again", imp.id, status or "gone")
        _enqueue(imp, JOBS[imp.status])
        requeued.append(imp.id)
    db.session.rollback()
    return requeued


def _enqueue(imp: PersonImport, job: str) -> None:
    from app.jobs import enqueue

    queued = enqueue(job, imp.id, job_timeout=JOB_TIMEOUT, result_ttl=86400, failure_ttl=7 * 86400)
    if queued is None:
        _finish(imp, "failed", "后台任务队列不可用，请稍后重试或联系系统管理员。")
        return
    imp.job_id = queued.id
    db.session.commit()


def _finish(imp: PersonImport, status: str, message: str | None) -> None:
    imp.status, imp.message, imp.finished_at = status, message, utcnow()
    if status == "done":
        imp.progress = 100
    db.session.commit()


def _fail(import_id: int, message: str) -> None:
    db.session.rollback()
    imp = db.session.get(PersonImport, import_id)
    if imp is not None:
        log.exception("person import %s failed", import_id)
        _finish(imp, "failed", message)


def _remove_stale_files(imp: PersonImport) -> None:
    """Files left under this id by an earlier database (a reset installation reuses ids)."""
    for path in [*_folder().glob(f"{imp.id}.*"), *_folder().glob(f"{imp.id}-*")]:
        path.unlink(missing_ok=True)


def _discard_files(imp: PersonImport) -> None:
    for suffix in (".rows", ".upload"):
        _file(imp, suffix).unlink(missing_ok=True)
