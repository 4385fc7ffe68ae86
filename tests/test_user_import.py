"""Importing staff from an Excel sheet: every row checked, nothing written unless all pass."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests import factories
from tests.conftest import csrf_token

HEADER = ["用户名*", "姓名*", "角色*", "部门", "班组", "技能", "工号", "手机", "邮箱", "初始密码"]


def _sheet(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def _upload(client, buffer: io.BytesIO, name: str = "users.xlsx"):
    token = csrf_token(client, "/admin/users/import")
    return client.post("/admin/users/import", data={"csrf_token": token, "file": (buffer, name)},
                       content_type="multipart/form-data")


def _setup(auth):
    factories.department("RX", "12393 医保服务热线")
    factories.department("DY", "待遇保障科")
    factories.skill("en", "英语", "language")
    factories.skill("chat", "在线客服", "channel")
    factories.team("一班")
    factories.user("admin7", ["admin"])
    auth.login("admin7")


def _user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_a_clean_sheet_creates_every_account(client, auth):
    _setup(auth)
    response = _upload(client, _sheet([
        ["zhangsan", "张三", "坐席", "RX", "一班", "en:3, chat", 1001, 13800000000, "zs@example.cn", None],
        ["liuyang", "刘洋", "承办部门经办人", "待遇保障科", None, None, None, None, None, "Welcome2026"],
        ["zhaomin", "赵敏", "坐席、班长", "rx", "一班", None, None, None, None, None],
    ]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已导入 3 个用户" in page
    zhang = db.session.scalars(select(User).where(User.username == "zhangsan")).one()
    assert zhang.skill_level("en") == 3 and zhang.skill_level("chat") == 1
    assert zhang.employee_no == "1001" and zhang.phone == "13800000000" and zhang.team.name == "一班"
    assert zhang.must_change_password
    zhao = db.session.scalars(select(User).where(User.username == "zhaomin")).one()
    assert zhao.roles == ["agent", "team_lead"]
    liu = db.session.scalars(select(User).where(User.username == "liuyang")).one()
    assert [d.code for d in liu.departments] == ["DY"]
    auth.logout()
    assert auth.login("liuyang", "Welcome2026").headers["Location"].endswith("/password")


def test_one_bad_row_writes_nothing_and_names_the_row(client, auth):
    """Row 3 has an unknown role and row 4 an unknown department: no account at all is created,
    and the report names each row and column."""
    _setup(auth)
    before = _user_count()
    response = _upload(client, _sheet([
        ["zhangsan", "张三", "坐席", "RX", None, None, None, None, None, None],
        ["lisi", "李四", "接线员", "RX", None, None, None, None, None, None],
        ["wangwu", "王五", "承办部门经办人", "不存在的科", None, None, None, None, None, None],
    ]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入任何用户" in page
    assert "第 3 行" in page and "未知角色“接线员”" in page
    assert "第 4 行" in page and "找不到部门“不存在的科”" in page
    assert "第 2 行" not in page
    assert _user_count() == before


def test_duplicates_within_the_file_and_against_existing_accounts_are_named(client, auth):
    _setup(auth)
    factories.user("existing", ["agent"])
    response = _upload(client, _sheet([
        ["newone", "甲", "坐席", None, None, None, None, None, None, None],
        ["NEWONE", "乙", "坐席", None, None, None, None, None, None, None],
        ["existing", "丙", "坐席", None, None, None, None, None, None, None],
    ]))
    page = response.get_data(as_text=True)
    assert "与第 2 行的用户名重复" in page
    assert "用户名“existing”已被使用" in page
    assert db.session.scalars(select(User).where(User.username == "newone")).first() is None


def test_weak_initial_password_and_bad_skill_level_are_row_errors(client, auth):
    _setup(auth)
    page = _upload(client, _sheet([
        ["zhangsan", "张三", "坐席", None, None, "en:x", None, None, None, None],
        ["lisi", "李四", "坐席", None, None, "en:9", None, None, None, "abc"],
    ])).get_data(as_text=True)
    assert "等级“x”不是数字" in page
    assert "技能等级须为 1–5" in page
    assert "密码至少 8 位" in page


def test_a_file_that_is_not_a_workbook_is_refused_clearly(client, auth):
    _setup(auth)
    response = _upload(client, io.BytesIO("用户名,姓名\nzhangsan,张三\n".encode()), "users.xlsx")
    assert response.status_code == 422
    assert "不是有效的 Excel (.xlsx) 文件" in response.get_data(as_text=True)


def test_a_sheet_missing_required_columns_is_refused(client, auth):
    _setup(auth)
    book = Workbook()
    book.active.append(["用户名", "手机"])
    book.active.append(["zhangsan", "13800000000"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    page = _upload(client, buffer).get_data(as_text=True)
    assert "表头缺少必需的列：姓名、角色" in page


def test_the_template_lists_the_columns_and_valid_values(client, auth):
    _setup(auth)
    response = client.get("/admin/users/import/template.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in book["用户"][1]] == HEADER
    notes = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "部门 RX" in notes and "技能 en" in notes
