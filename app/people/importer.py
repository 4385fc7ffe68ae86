"""Reading a file of insured people (.xlsx, or .csv in UTF-8 with or without BOM, or GBK/GB18030)
and checking every row: which rows are good, and for the others the row, the field and the
problem, in Chinese. Nothing here touches the database; app/people/imports.py does the rest."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.people import crypto, xlsx_reader
from app.people.identity import InvalidIdentifier, mask, parse_id_number, parse_phone, split_phones
from app.spreadsheets import UnreadableWorkbook, open_workbook

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "参保人姓名", "参保人", "名字"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "证件号", "身份证"),
    "phones": ("手机号码", "联系电话", "手机号", "手机", "电话", "电话号码", "联系方式", "固定电话", "座机"),
    "insurance_type": ("参保类型", "险种", "参保险种", "医保类型", "险种类型"),
    "insured_status": ("参保状态", "状态", "缴费状态", "参保缴费状态"),
    "unit": ("单位", "工作单位", "单位名称", "参保单位"),
    "region": ("区县", "所属区县", "区/县", "地区", "行政区划", "区域"),
    "notes": ("备注", "说明"),
    "birth_date": ("出生日期", "出生年月日", "生日"),
    "gender": ("性别",),
}
COLUMN_LABELS: dict[str, str] = {
    "name": "姓名", "id_number": "身份证号", "phones": "联系电话", "insurance_type": "参保类型",
    "insured_status": "参保状态", "unit": "单位", "region": "区县", "notes": "备注", "birth_date": "出生日期",
    "gender": "性别",
}
REQUIRED_COLUMNS = ("name", "id_number", "insurance_type", "insured_status")
_HEADER_INDEX = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
INSURANCE_TYPE_ALIASES = {
    "employee": ("职工医保", "职工", "城镇职工", "职工基本医疗保险", "城镇职工基本医疗保险", "职工医疗保险"),
    "resident": ("城乡居民医保", "居民医保", "城乡居民", "居民", "城乡居民基本医疗保险", "城乡居民医疗保险"),
}
STATUS_ALIASES = {
    "active": ("参保缴费", "正常参保", "正常", "参保", "缴费", "正常缴费"),
    "suspended": ("暂停参保", "暂停", "暂停缴费", "中断"),
    "arrears": ("欠费", "断缴"),
    "terminated": ("终止参保", "终止", "注销", "停保"),
}
_TYPES = {alias: code for code, aliases in INSURANCE_TYPE_ALIASES.items() for alias in aliases}
_STATUSES = {alias: code for code, aliases in STATUS_ALIASES.items() for alias in aliases}
_GENDERS = {"男": "male", "女": "female", "M": "male", "F": "female", "男性": "male", "女性": "female"}
_DATE_RE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")
MAX_PHONES = 5
EXCEL_EPOCH = date(1899, 12, 30)
HEADER_SEARCH_ROWS = 5  # a title row (“××区参保人员名单”) may sit above the header


class FileRefused(ValueError):
    """The file as a whole cannot be read; the message says why, in Chinese."""


@dataclass
class Table:
    columns: dict[str, list[int]]  # field → column positions (phones may come from several columns)
    rows: list[tuple[int, tuple]]  # (spreadsheet row number, raw cells)
    truncated: bool = False  # read with a limit and more rows follow


@dataclass(slots=True)
class ValidRow:
    row: int
    name: str
    id_number: str
    id_hash: str
    birth_date: date
    gender: str
    phones: list[tuple[str, str, str]]  # kind, normalised value, lookup hash
    insurance_type: str
    insured_status: str
    unit: str | None
    region: str | None
    notes: str | None


@dataclass(slots=True)
class Problem:
    row: int
    field: str
    message: str


@dataclass
class Validation:
    valid: list[ValidRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid_rows: int = 0
    total: int = 0
    briefs: dict[int, tuple[str, str]] = field(default_factory=dict)  # invalid row → name, masked ID (preview)


# --- reading -------------------------------------------------------------------------------------
def _header_name(value) -> str:
    return re.sub(r"[\s*＊:：]", "", str(value or "")).replace("（", "(").split("(")[0]


def _map_header(cells: tuple) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for position, value in enumerate(cells):
        label = _header_name(value)
        name = _HEADER_INDEX.get(label) or next(
            (_HEADER_INDEX[part] for part in re.split(r"[/、]", label) if part in _HEADER_INDEX), None)
        if name and (name == "phones" or name not in columns):
            columns.setdefault(name, []).append(position)
    return columns


def _collect(rows: Iterator[tuple[int, tuple]], limit: int | None) -> Table:
    columns: dict[str, list[int]] = {}
    header_row = 0
    for searched, (number, cells) in enumerate(rows, start=1):
        columns = _map_header(cells)
        if "name" in columns and "id_number" in columns:
            header_row = number
            break
        if searched >= HEADER_SEARCH_ROWS:
            break
    if not header_row:
        raise FileRefused("找不到表头：第一行应为列名，至少包括“姓名”和“身份证号”（请使用导入模板）。")
    missing = [COLUMN_LABELS[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FileRefused("表头缺少必需的列：" + "、".join(missing) + "（请使用导入模板）。")
    table = Table(columns, [])
    for number, cells in rows:
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        if limit is not None and len(table.rows) >= limit:
            table.truncated = True
            break
        table.rows.append((number, cells))
    return table


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRefused("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 .xlsx。") from None


def read_table(data: bytes, kind: str, limit: int | None = None) -> Table:
    """The header's columns and the non-empty data rows (at most `limit`, then `truncated`)."""
    if kind == "csv":
        text = _decode(data)
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        return _collect(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1), limit)
    try:
        return _collect(xlsx_reader.rows(data), limit)
    except xlsx_reader.XlsxUnreadable:
        pass  # something the fast reader does not know: openpyxl reads everything Excel writes
    try:
        book = open_workbook(io.BytesIO(data))
    except UnreadableWorkbook as exc:
        raise FileRefused(str(exc)) from None
    try:
        return _collect(enumerate(book.worksheets[0].iter_rows(values_only=True), start=1), limit)
    finally:
        book.close()


# --- checking ------------------------------------------------------------------------------------
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps 13800000001 as a number
    return str(value).strip()


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        return EXCEL_EPOCH + timedelta(days=int(value))  # a date cell read as its serial number
    match = _DATE_RE.match(_text(value))
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


class _Row:
    """One row being checked: its cells by field, and the problems found so far."""

    def __init__(self, number: int, cells: tuple, columns: dict[str, list[int]], problems: list[Problem]) -> None:
        self.number, self.cells, self.columns, self.problems = number, cells, columns, problems
        self.ok = True

    def raw(self, name: str):
        positions = self.columns.get(name)
        if not positions or positions[0] >= len(self.cells):
            return None
        return self.cells[positions[0]]

    def text(self, name: str) -> str:
        return _text(self.raw(name))

    def fail(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.number, COLUMN_LABELS[name], message))
        self.ok = False


def _check_id(row: _Row):
    raw = row.raw("id_number")
    if isinstance(raw, float):
        row.fail("id_number", "身份证号被存成了数字（科学计数法），末几位已丢失：请将该列设为“文本”后重新填写")
        return None
    text = row.text("id_number")
    if not text:
        row.fail("id_number", "必填项为空")
        return None
    try:
        return parse_id_number(text)
    except InvalidIdentifier as exc:
        row.fail("id_number", str(exc))
        return None


def _check_against_id(row: _Row, ident) -> None:
    if "birth_date" in row.columns and row.text("birth_date"):
        born = _date(row.raw("birth_date"))
        if born is None:
            row.fail("birth_date", "出生日期格式不正确（应如 1990-01-31）")
        elif ident is not None and born != ident.birth_date:
            row.fail("birth_date", "出生日期与身份证号中的出生日期不一致")
    if "gender" in row.columns and row.text("gender"):
        gender = _GENDERS.get(row.text("gender").upper())
        if gender is None:
            row.fail("gender", "性别应为“男”或“女”")
        elif ident is not None and gender != ident.gender:
            row.fail("gender", "性别与身份证号不符（第 17 位奇数为男、偶数为女）")


def _check_phones(row: _Row, keys: crypto.DataKeys) -> list[tuple[str, str, str]]:
    texts = [t for position in row.columns.get("phones", []) if position < len(row.cells)
             for t in split_phones(_text(row.cells[position]))]
    phones: dict[str, tuple[str, str, str]] = {}
    for index, text in enumerate(texts, start=1):
        try:
            phone = parse_phone(text)
        except InvalidIdentifier as exc:
            row.fail("phones", f"第 {index} 个号码：{exc}" if len(texts) > 1 else str(exc))
            continue
        digest = crypto.lookup_hash(phone.value, crypto.PHONE, keys)
        phones.setdefault(digest, (phone.kind, phone.value, digest))
    if len(phones) > MAX_PHONES:
        row.fail("phones", f"每人最多登记 {MAX_PHONES} 个电话号码")
    return list(phones.values())


def _choice(row: _Row, name: str, aliases: dict[str, str], expected: str) -> str | None:
    text = row.text(name)
    if not text:
        row.fail(name, "必填项为空")
        return None
    code = aliases.get(text.replace(" ", ""))
    if code is None:
        row.fail(name, f"无法识别“{text[:20]}”，应为 {expected}")
    return code


def _optional(row: _Row, name: str, limit: int) -> str | None:
    text = row.text(name)
    if len(text) > limit:
        row.fail(name, f"最多 {limit} 个字")
    return text or None


def validate_rows(table: Table, keys: crypto.DataKeys, brief_rows: int = 0) -> Validation:
    """Check every row; duplicates of an ID number within the file are errors (the first one stays)."""
    result = Validation(total=len(table.rows))
    seen: dict[str, int] = {}
    for position, (number, cells) in enumerate(table.rows):
        row = _Row(number, cells, table.columns, result.problems)
        name = " ".join(row.text("name").split())
        if not name:
            row.fail("name", "必填项为空")
        elif len(name) > 64 or any(ch.isdigit() for ch in name):
            row.fail("name", "姓名最多 64 个字，且不能包含数字")
        ident = _check_id(row)
        id_hash = None
        if ident is not None:
            id_hash = crypto.lookup_hash(ident.value, crypto.ID_NUMBER, keys)
            if id_hash in seen:
                row.fail("id_number", f"与第 {seen[id_hash]} 行的身份证号重复")
            else:
                seen[id_hash] = number
        _check_against_id(row, ident)
        phones = _check_phones(row, keys)
        insurance_type = _choice(row, "insurance_type", _TYPES, "“职工医保”或“城乡居民医保”")
        status = _choice(row, "insured_status", _STATUSES, "“参保缴费”“暂停参保”“欠费”或“终止参保”")
        unit, region, notes = _optional(row, "unit", 200), _optional(row, "region", 64), _optional(row, "notes", 1000)
        if row.ok and ident is not None and id_hash and insurance_type and status:
            result.valid.append(ValidRow(number, name, ident.value, id_hash, ident.birth_date, ident.gender, phones,
                                         insurance_type, status, unit, region, notes))
        else:
            result.invalid_rows += 1
            if position < brief_rows:
                result.briefs[number] = (name[:20], mask(ident.value) if ident else "")
    return result
