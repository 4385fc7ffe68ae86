"""Reading the article form: posted strings → ArticleInput, with Chinese messages for bad dates."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from app.knowledge.services import ArticleInput, KbRefused


def _date(value: str | None, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise KbRefused(f"{label}格式应为 年-月-日") from exc


def article_input(form: MultiDict) -> ArticleInput:
    category = (form.get("category_id") or "").strip()
    return ArticleInput(
        category_id=int(category) if category.isdigit() else None,
        question=form.get("question", ""), answer=form.get("answer", ""), tags=form.get("tags", ""),
        policy_ref=form.get("policy_ref", ""), visibility=form.get("visibility", "internal"),
        effective_from=_date(form.get("effective_from"), "生效日期"),
        effective_to=_date(form.get("effective_to"), "失效日期"), note=form.get("note", ""))
