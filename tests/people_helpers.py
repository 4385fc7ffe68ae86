"""Data helpers for the insured-people tests: valid ID numbers, people, import files."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook

from app.people.identity import make_id_number
from app.people.services import PersonInput, add_person

HEADER = ["姓名", "身份证号", "手机号码", "参保类型", "参保状态", "单位", "区县", "备注"]


def valid_id(n: int, born: date = date(1980, 1, 1), region: str = "620102") -> str:
    """The n-th distinct, well-formed ID number (check digit right) for a birth date."""
    day = date.fromordinal(born.toordinal() + n // 1000)
    return make_id_number(region, day, n % 1000)


def person(name: str = "王建国", id_number: str | None = None, phones: list[str] | None = None,
           insurance_type: str = "employee", insured_status: str = "active", region: str = "城关区"):
    return add_person(PersonInput(name=name, id_number=id_number or valid_id(1), insurance_type=insurance_type,
                                  insured_status=insured_status,
                                  phones=["13800000001"] if phones is None else phones, region=region,
                                  unit="兰州市某某商贸有限公司"))


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def chinese_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[i // len(SURNAMES) % len(GIVEN)] + GIVEN[i // 500 % len(GIVEN)]


def rows_of(count: int, start: int = 100) -> list[list]:
    return [[chinese_name(i), valid_id(start + i), f"139{start + i:08d}", "城乡居民医保" if i % 3 else "职工医保",
             "参保缴费", "", "七里河区", ""] for i in range(count)]


def csv_bytes(rows: list[list], header: list[str] | None = None, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or HEADER[:len(rows[0])] if rows else header or HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header: list[str] | None = None) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("参保人")
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
