"""Reading an uploaded .xlsx sheet the same way everywhere (users, shifts …): the first sheet, a
header row naming the columns (a trailing * marks required ones in our templates), blank rows
skipped, the spreadsheet's own row numbers kept for error messages."""

from __future__ import annotations

import zipfile
from typing import IO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

NOT_A_WORKBOOK = "文件不是有效的 Excel (.xlsx) 文件，请使用导入模板。"


class UnreadableWorkbook(ValueError):
    """The upload is not an .xlsx file openpyxl can open (not a zip, a damaged one, another format)."""


def open_workbook(stream: IO[bytes]):
    """The workbook, read-only with values (not formulas); UnreadableWorkbook for anything else,
    whatever the way it is broken."""
    try:
        return load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise UnreadableWorkbook(NOT_A_WORKBOOK) from exc


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 13800000000 and 1001 as numbers
    return str(value).strip()


def read_rows(stream: IO[bytes], columns: dict[str, str], required: tuple[str, ...], max_rows: int,
              convert=cell_text) -> tuple[list[tuple[int, dict]], str | None]:
    """`columns` maps a header label to a field name. Returns (row number, {field: value}) pairs, or
    a message saying why the file cannot be read. `convert` turns each cell into its value."""
    try:
        workbook = open_workbook(stream)
    except UnreadableWorkbook as exc:
        return [], str(exc)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return [], "表格为空。"
        names = [cell_text(h).rstrip("*＊").strip() for h in header]
        missing = [c for c in required if c not in names]
        if missing:
            return [], "表头缺少必需的列：" + "、".join(missing) + "（请使用导入模板）"
        index = {columns[n]: i for i, n in enumerate(names) if n in columns}
        result = []
        for number, values in enumerate(rows, start=2):
            cells = {name: convert(values[i]) if i < len(values) else "" for name, i in index.items()}
            if not any(cells.values()):
                continue
            if len(result) >= max_rows:
                return [], f"一次最多导入 {max_rows} 行，请拆分文件。"
            result.append((number, cells))
        return result, None
    finally:
        workbook.close()
