"""The import template: the header in Chinese, two example rows, and how to fill each column."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook

from app.people.identity import make_id_number
from app.people.importer import INSURANCE_TYPE_ALIASES, STATUS_ALIASES

HEADER = ["姓名", "身份证号", "手机号码", "参保类型", "参保状态", "单位", "区县", "备注"]


def workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "参保人"
    sheet.append(HEADER)
    sheet.append(["张三", make_id_number("620102", date(1985, 3, 12), 371), "13800000000；0931-8123456", "职工医保",
                  "参保缴费", "兰州市某某有限公司", "城关区", "示例行，导入前请删除"])
    sheet.append(["李四", make_id_number("620103", date(1992, 11, 5), 242), "13900000000", "城乡居民医保", "参保缴费",
                  "", "七里河区", "示例行，导入前请删除"])
    for row in sheet.iter_rows(min_row=2, max_col=2):
        row[1].number_format = "@"  # text: Excel would turn an 18-digit number into 6.2E+17 and lose digits
    sheet.column_dimensions["B"].number_format = "@"
    for column, width in zip("ABCDEFGH", (10, 22, 28, 14, 10, 26, 10, 24), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明"])
    notes.append(["姓名", "必填"])
    notes.append(["身份证号", "必填，18 位（最后一位可为 X）；请将该列设为“文本”格式。15 位旧号码会自动升级为 18 位。"
                            "与系统中已有参保人相同的身份证号将更新其资料。"])
    notes.append(["手机号码 / 联系电话", "可填多个，用分号或顿号分隔；手机 11 位，固定电话须带区号，如 0931-8123456"])
    notes.append(["参保类型", "必填：" + " 或 ".join(v[0] for v in INSURANCE_TYPE_ALIASES.values())])
    notes.append(["参保状态", "必填：" + "、".join(v[0] for v in STATUS_ALIASES.values())])
    notes.append(["出生日期、性别", "可选；填写时须与身份证号一致"])
    notes.append(["更新规则", "更新已有参保人时，空白单元格不会清除原有内容，电话号码只会补充，不会删除。"])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 20, 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
