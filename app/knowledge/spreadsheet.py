"""Articles to and from .xlsx. An import checks every row first and writes the good ones in one
transaction: new questions become new articles, known questions a new version of their article;
they wait for review, unless a team lead chose to publish them directly (moving an existing KB in)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import select

from app.extensions import db
from app.knowledge import services
from app.knowledge.services import ArticleInput, KbRefused
from app.models import User
from app.models.knowledge import KbArticle
from app.spreadsheets import UnreadableWorkbook, open_workbook

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
COLUMNS = ["分类", "问题", "答案", "标签", "政策依据", "生效日期", "失效日期", "可见范围"]
VISIBILITY_BY_LABEL = {"内部": "internal", "公开": "public", "internal": "internal", "public": "public"}


def export_articles(include_internal: bool) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.title = "知识库"
    sheet.append(COLUMNS)
    paths = dict(services.category_choices())
    query = select(KbArticle).where(KbArticle.status == "published").order_by(KbArticle.id)
    if not include_internal:
        query = query.where(KbArticle.visibility == "public")
    for article in db.session.scalars(query):
        sheet.append([paths.get(article.category_id, ""), article.question, article.answer, article.tags,
                      article.policy_ref, article.effective_from, article.effective_to,
                      services.VISIBILITY[article.visibility]])
    for letter, width in zip("ABCDEFGH", (22, 36, 80, 24, 24, 12, 12, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    published: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, problem)


def _cell_date(value: object, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise KbRefused(f"{label}格式应为 年-月-日") from exc


def _rows(data: bytes):
    if len(data) > MAX_BYTES:
        raise KbRefused("文件超过 10 MB")
    try:
        book = open_workbook(io.BytesIO(data))
    except UnreadableWorkbook as exc:
        raise KbRefused(str(exc)) from exc
    rows = book.active.iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows, [])]
    missing = [c for c in ("问题", "答案") if c not in header]
    if missing:
        raise KbRefused(f"表头缺少列：{'、'.join(missing)}（应为：{'、'.join(COLUMNS)}）")
    for number, row in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise KbRefused(f"一次最多导入 {MAX_ROWS} 行")
        values = dict(zip(header, row, strict=False))
        if any(v not in (None, "") for v in values.values()):
            yield number, values


def import_articles(data: bytes, user: User, publish: bool) -> ImportResult:
    result = ImportResult(published=publish)
    checked = []
    for number, values in _rows(data):
        try:
            visibility = VISIBILITY_BY_LABEL.get(str(values.get("可见范围") or "内部").strip())
            if visibility is None:
                raise KbRefused("可见范围应为 内部 或 公开")
            item = ArticleInput(
                category_id=None, question=str(values.get("问题") or "").strip(),
                answer=str(values.get("答案") or "").strip(), tags=str(values.get("标签") or ""),
                policy_ref=str(values.get("政策依据") or ""), visibility=visibility,
                effective_from=_cell_date(values.get("生效日期"), "生效日期"),
                effective_to=_cell_date(values.get("失效日期"), "失效日期"), note="Excel 导入")
            item.check()
            checked.append((number, str(values.get("分类") or ""), item))
        except KbRefused as refused:
            result.errors.append((number, str(refused)))
    for _number, path, item in checked:  # the good rows, in one transaction
        item.category_id = services.category_path_id(path.replace("／", "/").split("/")) if path else None
        existing = db.session.scalar(select(KbArticle).where(KbArticle.question == item.question))
        version = services.write_version(existing, item, user)
        if publish:
            services.publish(version)
        else:
            version.state, version.submitted_at = "submitted", services.utcnow()
        result.created += existing is None
        result.updated += existing is not None
    db.session.commit()
    return result
