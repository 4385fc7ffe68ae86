"""A manager imports insured people from Excel or CSV: every row is checked and previewed, then
written — all valid rows (lenient) or nothing at all (strict); large files run as a job."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from rq import Queue, SimpleWorker
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Person, PersonChange, PersonImport, PersonPhone
from app.people import imports
from app.people.services import id_hash, id_number_of
from app.redis_client import get_redis
from tests import factories
from tests.conftest import csrf_token
from tests.people_helpers import HEADER, csv_bytes, rows_of, valid_id, xlsx_bytes

GOOD = [
    ["王建国", valid_id(1), "13800000001；0931-8123456", "职工医保", "参保缴费", "兰州市某某商贸有限公司", "城关区", ""],
    ["李秀兰", valid_id(2, born=date(1956, 9, 2)), "13909311234", "城乡居民医保", "参保缴费", "", "七里河区", "老年人"],
    ["张伟", valid_id(3), "", "职工", "暂停", "甘肃某某建设集团", "西固区", ""],
]


def _manager(auth):
    factories.user("manager7", ["manager"], display_name="孙丽")
    auth.login("manager7")


def _upload(client, data: bytes, name: str = "参保人.xlsx", mode: str = "strict"):
    token = csrf_token(client, "/people/imports")
    return client.post("/people/imports", data={"csrf_token": token, "mode": mode, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _latest() -> PersonImport:
    return db.session.scalars(select(PersonImport).order_by(PersonImport.id.desc())).first()


def _commit(client, imp_id: int, mode: str | None = None):
    token = csrf_token(client, f"/people/imports/{imp_id}")
    data = {"csrf_token": token} | ({"mode": mode} if mode else {})
    return client.post(f"/people/imports/{imp_id}/commit", data=data, follow_redirects=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_good_file_is_previewed_then_written_encrypted(client, auth):
    """Three good rows: the preview says 将新增 3, the commit writes them; no column holds an
    identifier in plain text, yet each person is found again by the keyed hash of their ID number."""
    _manager(auth)
    response = _upload(client, xlsx_bytes(GOOD))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "待确认导入" in page and "将新增" in page and _count(Person) == 0
    assert valid_id(1) not in page and "6201**********" in page
    page = _commit(client, _latest().id).get_data(as_text=True)
    assert "导入完成：新增 3 人" in page
    assert _count(Person) == 3 and _count(PersonPhone) == 3 and _count(PersonChange) == 0
    wang = db.session.scalars(select(Person).where(Person.id_number_hash == id_hash(valid_id(1)))).one()
    assert id_number_of(wang) == valid_id(1) and wang.birth_date == date(1980, 1, 1) and wang.gender == "male"
    zhang = db.session.scalars(select(Person).where(Person.name == "张伟")).one()
    assert (zhang.insurance_type, zhang.insured_status) == ("employee", "suspended")
    for table in ("person", "person_phone"):  # the raw bytes of every column of every row
        for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed table names
            raw = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
            for secret in (valid_id(1), valid_id(2), valid_id(3), "13800000001", "8123456", "13909311234"):
                assert secret.encode() not in raw, (table, secret)
    assert _latest().status == "done" and _latest().created_rows == 3


def test_bad_rows_are_named_by_row_field_and_problem_in_chinese(client, auth):
    """Each problem names the spreadsheet row, the column and what is wrong."""
    _manager(auth)
    wrong_check = valid_id(5)[:17] + ("0" if valid_id(5)[17] != "0" else "1")
    rows = GOOD[:1] + [
        ["错校验", wrong_check, "13800000002", "职工医保", "参保缴费", "", "", ""],
        ["", valid_id(6), "12345", "居民", "参保缴费", "", "", ""],
        ["重复人", valid_id(1), "", "城乡居民医保", "参保缴费", "", "", ""],
        ["类型错", valid_id(7), "", "商业保险", "失踪", "", "", ""],
    ]
    _upload(client, xlsx_bytes(rows))
    page = client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    for expected in ("第 3 行", "身份证号校验位错误", "第 4 行", "必填项为空", "电话号码格式不正确",
                     "与第 2 行的身份证号重复", "第 6 行", "无法识别“商业保险”", "无法识别“失踪”"):
        assert expected in page, expected
    imp = _latest()
    assert (imp.total_rows, imp.valid_rows, imp.invalid_rows) == (5, 1, 4)
    assert wrong_check not in page


def test_strict_mode_writes_nothing_when_any_row_fails(client, auth):
    _manager(auth)
    rows = GOOD + [["坏人", "620102198001010000", "", "职工医保", "参保缴费", "", "", ""]]
    _upload(client, xlsx_bytes(rows), mode="strict")
    page = _commit(client, _latest().id).get_data(as_text=True)
    assert "严格模式：文件中有 1 行未通过校验，未写入任何数据" in page
    assert _count(Person) == 0 and _latest().status == "refused"
    assert "未导入" in client.get("/people/imports").get_data(as_text=True)


def test_lenient_mode_writes_the_good_rows_and_offers_the_error_report(client, auth):
    _manager(auth)
    rows = GOOD + [["坏人", "620102198001010000", "", "职工医保", "参保缴费", "", "", ""]]
    _upload(client, xlsx_bytes(rows), mode="strict")
    page = _commit(client, _latest().id, mode="lenient").get_data(as_text=True)  # the manager switches mode
    assert "导入完成：新增 3 人" in page and _count(Person) == 3
    report = client.get(f"/people/imports/{_latest().id}/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.data)).active
    assert [c.value for c in sheet[1]] == ["行号", "字段", "问题"]
    assert [c.value for c in sheet[2]] == [5, "身份证号", "身份证号校验位错误（可能有数字录入错误）"]


def test_gbk_and_bom_csv_files_are_read(client, auth):
    """A CSV saved by Excel on a Chinese Windows (GBK) and one in UTF-8 with BOM, with header aliases."""
    _manager(auth)
    header = ["姓名", "公民身份号码", "联系电话", "险种", "参保状态", "工作单位", "所属区县", "备注"]
    _upload(client, csv_bytes(GOOD[:2], header=header, encoding="gbk"), name="名单.csv")
    assert _latest().valid_rows == 2, client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    _commit(client, _latest().id)
    _upload(client, csv_bytes(GOOD[2:], header=HEADER, encoding="utf-8-sig"), name="名单2.csv")
    _commit(client, _latest().id)
    assert sorted(db.session.scalars(select(Person.name))) == ["张伟", "李秀兰", "王建国"]
    assert db.session.scalars(select(Person).where(Person.name == "李秀兰")).one().notes == "老年人"


def test_reimporting_the_same_file_changes_nothing(client, auth):
    """The second upload is recognised, previews as 无变化, and writes no row and no change."""
    _manager(auth)
    data = xlsx_bytes(GOOD)
    _upload(client, data)
    _commit(client, _latest().id)
    before = (_count(Person), _count(PersonPhone), _count(PersonChange))
    updated_at = db.session.scalar(select(func.max(Person.updated_at)))
    _upload(client, data)
    page = client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    assert "同一文件曾于" in page and "无变化" in page
    page = _commit(client, _latest().id).get_data(as_text=True)
    assert "新增 0 人，更新 0 人，无变化 3 人" in page
    assert (_count(Person), _count(PersonPhone), _count(PersonChange)) == before
    assert db.session.scalar(select(func.max(Person.updated_at))) == updated_at


def test_an_import_updates_by_id_number_and_records_each_change(client, auth):
    """Same ID number, new status and a new phone: an update (更新), with old → new in the history;
    blank cells keep what is there."""
    _manager(auth)
    _upload(client, xlsx_bytes(GOOD))
    _commit(client, _latest().id)
    changed = [["王建国", valid_id(1), "13800000001、13900000009", "职工医保", "暂停参保", "", "", ""]]
    _upload(client, xlsx_bytes(changed))
    page = client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    assert "将更新" in page and "参保状态、联系电话" in page
    _commit(client, _latest().id)
    wang = db.session.scalars(select(Person).where(Person.name == "王建国")).one()
    assert wang.insured_status == "suspended" and wang.unit == "兰州市某某商贸有限公司" and len(wang.phones) == 3
    history = {(c.field, c.old_value, c.new_value) for c in db.session.scalars(select(PersonChange))}
    assert history == {("insured_status", "参保缴费", "暂停参保"), ("phone", "", "139****0009")}


def test_birth_date_and_gender_columns_must_agree_with_the_id_number(client, auth):
    _manager(auth)
    header = ["姓名", "身份证号", "出生日期", "性别", "参保类型", "参保状态"]
    rows = [["甲", valid_id(11), date(1980, 1, 1), "男", "职工医保", "参保缴费"],
            ["乙", valid_id(12), "1980-01-02", "男", "职工医保", "参保缴费"],
            ["丙", valid_id(14), "1980/1/1", "男", "职工医保", "参保缴费"],
            ["丁", 6.20102198001011e17, "", "", "职工医保", "参保缴费"]]
    _upload(client, xlsx_bytes(rows, header=header))
    page = client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    assert "出生日期与身份证号中的出生日期不一致" in page and "性别与身份证号不符" in page
    assert "身份证号被存成了数字" in page
    assert (_latest().valid_rows, _latest().invalid_rows) == (1, 3)


def test_a_file_without_the_required_columns_is_refused_whole(client, auth):
    _manager(auth)
    _upload(client, xlsx_bytes([["王建国", valid_id(1)]], header=["姓名", "身份证号"]))
    page = client.get(f"/people/imports/{_latest().id}").get_data(as_text=True)
    assert "表头缺少必需的列：参保类型、参保状态" in page and _latest().status == "refused"
    response = _upload(client, b"not a spreadsheet", name="x.pdf")
    assert response.status_code == 422 and "只支持 Excel (.xlsx) 或 CSV (.csv) 文件" in response.get_data(as_text=True)


def _run_jobs() -> None:
    SimpleWorker([Queue("default", connection=get_redis())], connection=get_redis()).work(burst=True)


def test_a_large_file_runs_as_a_job_with_progress_and_an_error_report(client, auth):
    """6,000 rows (3 bad): checking and writing each run as an rq job; the status endpoint shows
    the progress, the page the result, and the error report names the bad rows."""
    _manager(auth)
    rows = rows_of(6000)
    rows[10][1] = rows[10][1][:17] + ("1" if rows[10][1][17] == "0" else "0")
    rows[2000][2] = "1234"
    rows[5999][3] = "补充医疗"
    _upload(client, xlsx_bytes(rows))
    imp = _latest()
    status = client.get(f"/people/imports/{imp.id}/status.json").get_json()
    assert status["status"] == "validating" and status["running"] and status["progress"] == 0
    assert 'data-status-url' in client.get(f"/people/imports/{imp.id}").get_data(as_text=True)
    _run_jobs()
    status = client.get(f"/people/imports/{imp.id}/status.json").get_json()
    assert (status["status"], status["progress"]) == ("previewed", 100)
    assert (status["total_rows"], status["invalid_rows"]) == (6000, 3)
    _commit(client, imp.id, mode="lenient")
    status = client.get(f"/people/imports/{imp.id}/status.json").get_json()
    assert status["status"] == "committing" and status["running"] and _count(Person) == 0
    _run_jobs()
    status = client.get(f"/people/imports/{imp.id}/status.json").get_json()
    assert (status["status"], status["progress"], status["written_rows"]) == ("done", 100, 5997)
    assert _count(Person) == 5997 and _count(PersonPhone) == 5997
    sheet = load_workbook(io.BytesIO(client.get(status["report_url"]).data)).active
    problems = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [p[:2] for p in problems] == [[12, "身份证号"], [2002, "联系电话"], [6001, "参保类型"]]
    assert not list((imports._folder()).glob(f"{imp.id}.*"))  # the encrypted working files are gone


def test_a_large_file_in_strict_mode_with_a_bad_row_writes_nothing(client, auth):
    _manager(auth)
    rows = rows_of(5000)
    rows[4999][1] = "620102198001010000"
    _upload(client, csv_bytes(rows), name="big.csv")
    _run_jobs()
    page = _commit(client, _latest().id).get_data(as_text=True)
    _run_jobs()
    assert "未写入任何数据" in page and _count(Person) == 0 and _latest().status == "refused"


def test_the_template_reads_back_as_a_valid_import(client, auth):
    _manager(auth)
    template = client.get("/people/imports/template.xlsx")
    assert template.status_code == 200
    _upload(client, template.data)
    assert (_latest().valid_rows, _latest().invalid_rows) == (2, 0)


def test_a_large_import_whose_job_was_lost_is_queued_again_and_finishes(client, auth):
    """Redis restarted empty while a 5,000-row file waited to be checked, and the worker writing it
    died: the periodic recovery sees, from rq, that the import's job is gone or dead and queues the
    step again; a job still waiting is left alone; a job that keeps dying ends the wait with a
    message instead of 校验中 for ever."""
    from rq.job import Job

    from worker.jobs import recover_lost_jobs

    _manager(auth)
    _upload(client, csv_bytes(rows_of(5000)), name="big.csv")
    imp = _latest()
    queue = Queue("default", connection=get_redis())
    assert imp.status == "validating" and queue.count == 1
    assert imports.requeue_lost() == []  # its job is still waiting: nothing to recover
    queue.empty()  # Redis lost the job; the import still says 校验中
    assert recover_lost_jobs()["person_imports"] == 1 and queue.count == 1
    _run_jobs()
    db.session.expire_all()
    assert (_latest().status, _latest().valid_rows) == ("previewed", 5000)

    _commit(client, imp.id, mode="lenient")
    db.session.expire_all()
    job = Job.fetch(_latest().job_id, connection=get_redis())
    queue.remove(job)
    job.set_status("failed")  # what rq records for a job whose worker was killed under it
    assert imports.requeue_lost() == [imp.id]
    _run_jobs()
    db.session.expire_all()
    assert (_latest().status, _latest().written_rows) == ("done", 5000) and _count(Person) == 5000

    _upload(client, csv_bytes(rows_of(5000)), name="again.csv")
    again = _latest()
    for _ in range(imports.MAX_REQUEUES):
        queue.empty()
        assert imports.requeue_lost() == [again.id]
    queue.empty()
    assert imports.requeue_lost() == []
    db.session.expire_all()
    assert _latest().status == "failed" and "后台任务多次中断" in _latest().message
    page = client.get(f"/people/imports/{again.id}").get_data(as_text=True)
    # Its check never finished: nothing to write, so the page offers a new upload, not 重新执行导入.
    assert "后台任务多次中断，未能完成。请重新上传文件。" in page and "重新执行导入" not in page
    assert "放弃该批次" in page and imports.committable(_latest()) is False
