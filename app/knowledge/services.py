"""Knowledge-base work: write and review articles, publish versions, synonyms, answer use, and policy
changes with their one-working-day deadline. Views stay thin; every change commits here."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape
from sqlalchemy import func, select

from app.extensions import db
from app.knowledge import search
from app.models import User
from app.models.knowledge import (
    KbAnswerUse,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbSynonym,
    PolicyChange,
    PolicyChangeArticle,
)
from workflows.clock import now as utcnow  # the platform clock: tests freeze it across a holiday
from workflows.working_days import add_working_days

FIELDS = ("category_id", "question", "answer", "tags", "policy_ref", "visibility", "effective_from", "effective_to")
VISIBILITY = {"internal": "内部", "public": "公开"}
STATE_LABELS = {"draft": "草稿", "submitted": "待审核", "published": "已发布", "superseded": "已被替代"}
EXPIRY_WARNING = timedelta(days=30)


class KbRefused(Exception):
    """A request the knowledge base cannot take; the message says why in Chinese."""


# ------------------------------------------------------------------------------------------------ categories


def category_path_id(path: list[str]) -> int | None:
    """The id of a category given by its names from the root, created where missing (imports)."""
    parent = None
    for name in [p.strip() for p in path if p and p.strip()]:
        found = db.session.scalar(select(KbCategory).where(KbCategory.name == name[:60],
                                                           KbCategory.parent_id.is_(None) if parent is None
                                                           else KbCategory.parent_id == parent.id))
        if found is None:
            found = KbCategory(name=name[:60], parent_id=parent.id if parent else None)
            db.session.add(found)
            db.session.flush()
        parent = found
    return parent.id if parent else None


def category_choices() -> list[tuple[int, str]]:
    """(id, "父类 / 子类") in tree order, for selects and filters."""
    categories = db.session.scalars(select(KbCategory)).all()
    children: dict[int | None, list[KbCategory]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    result: list[tuple[int, str]] = []

    def walk(parent_id: int | None, prefix: str) -> None:
        for category in sorted(children.get(parent_id, []), key=lambda c: c.name):
            label = f"{prefix}{category.name}"
            result.append((category.id, label))
            walk(category.id, f"{label} / ")

    walk(None, "")
    return result


def category_and_below(category_id: int) -> set[int]:
    ids, frontier = {category_id}, {category_id}
    while frontier:
        frontier = set(db.session.scalars(select(KbCategory.id).where(KbCategory.parent_id.in_(frontier)))) - ids
        ids |= frontier
    return ids


# ------------------------------------------------------------------------------------------------ articles


@dataclass
class ArticleInput:
    category_id: int | None
    question: str
    answer: str
    tags: str
    policy_ref: str
    visibility: str
    effective_from: date | None
    effective_to: date | None
    note: str = ""

    def check(self) -> None:
        if len(self.question.strip()) < 4:
            raise KbRefused("问题至少 4 个字")
        if len(self.answer.strip()) < 10:
            raise KbRefused("答案至少 10 个字")
        if self.visibility not in VISIBILITY:
            raise KbRefused("可见范围无效")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise KbRefused("失效日期不能早于生效日期")
        if self.category_id is not None and db.session.get(KbCategory, self.category_id) is None:
            raise KbRefused("分类不存在")


def _normalise_tags(tags: str) -> str:
    return "、".join(dict.fromkeys(t for t in re.split(r"[、,，;；\s]+", tags or "") if t))[:300]


def working_version(article: KbArticle) -> KbArticleVersion | None:
    """The newest version not yet published (a draft or one waiting for review), if any."""
    return db.session.scalar(select(KbArticleVersion).where(
        KbArticleVersion.article_id == article.id, KbArticleVersion.state.in_(("draft", "submitted")))
        .order_by(KbArticleVersion.number.desc()).limit(1))


def versions(article: KbArticle) -> list[KbArticleVersion]:
    return db.session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == article.id)
                              .order_by(KbArticleVersion.number.desc())).all()


def save_draft(article: KbArticle | None, data: ArticleInput, user: User) -> KbArticleVersion:
    """Write the article's working version (a new one after a publication); a version waiting for
    review goes back to draft when edited."""
    version = write_version(article, data, user)
    db.session.commit()
    return version


def write_version(article: KbArticle | None, data: ArticleInput, user: User | None) -> KbArticleVersion:
    """save_draft without the commit, for imports that write many articles in one transaction
    (user None: written by the platform itself, e.g. the demo knowledge base)."""
    data.check()
    if article is None:
        article = KbArticle(question=data.question.strip(), answer=data.answer.strip(), status="draft",
                            category_id=data.category_id, visibility=data.visibility)
        db.session.add(article)
        db.session.flush()
    version = working_version(article)
    if version is None:
        number = (db.session.scalar(select(func.max(KbArticleVersion.number))
                                    .where(KbArticleVersion.article_id == article.id)) or 0) + 1
        version = KbArticleVersion(article_id=article.id, number=number)
        db.session.add(version)
    for field in FIELDS:
        setattr(version, field, getattr(data, field))
    version.question, version.answer = data.question.strip(), data.answer.strip()
    version.tags, version.policy_ref = _normalise_tags(data.tags), (data.policy_ref or "").strip()[:200]
    version.note = (data.note or "").strip()[:300]
    version.state, version.author_id, version.submitted_at = "draft", user.id if user else None, None
    db.session.flush()
    return version


def submit(version: KbArticleVersion, user: User) -> None:
    if version.state != "draft":
        raise KbRefused("只有草稿可以提交审核")
    version.state, version.submitted_at = "submitted", utcnow()
    db.session.commit()


def review(version: KbArticleVersion, reviewer: User, approve: bool, note: str = "") -> None:
    """A team lead publishes a version, or sends it back with a note. Nobody reviews their own text."""
    if version.state != "submitted":
        raise KbRefused("该版本不在待审核状态")
    if version.author_id == reviewer.id:
        raise KbRefused("不能审核自己编写的版本，请由另一位班长审核")
    version.reviewer_id, version.reviewed_at, version.review_note = reviewer.id, utcnow(), (note or "").strip()[:300]
    if not approve:
        if not version.review_note:
            raise KbRefused("退回时请写明原因")
        version.state = "draft"
        db.session.commit()
        return
    publish(version)
    db.session.commit()


def publish(version: KbArticleVersion) -> None:
    """Make a version the article's published text and index it (caller commits)."""
    article = db.session.get(KbArticle, version.article_id)
    previous = article.published_version
    if previous is not None and previous.id != version.id:
        previous.state = "superseded"
    now = utcnow()
    version.state, version.published_at = "published", now
    article.published_version_id = version.id
    for field in FIELDS:
        setattr(article, field, getattr(version, field))
    article.status, article.updated_at = "published", now
    search.index(article)
    _policy_changes_answered(article, version, now)


def retire(article: KbArticle) -> None:
    article.status = "retired"
    search.index(article)
    db.session.commit()


def version_diff(old: KbArticleVersion | None, new: KbArticleVersion) -> list[tuple[str, Markup]]:
    """(field label, the text with deletions and insertions marked) for each field that changed."""
    labels = {"question": "问题", "answer": "答案", "tags": "标签", "policy_ref": "政策依据", "visibility": "可见范围",
              "effective_from": "生效日期", "effective_to": "失效日期"}
    result = []
    for field, label in labels.items():
        before = "" if old is None else str(getattr(old, field) or "")
        after = str(getattr(new, field) or "")
        if before != after:
            result.append((label, _inline_diff(before, after)))
    return result


def _inline_diff(before: str, after: str) -> Markup:
    parts = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(Markup("<del>") + escape(before[a1:a2]) + Markup("</del>"))
        if op in ("insert", "replace"):
            parts.append(Markup("<ins>") + escape(after[b1:b2]) + Markup("</ins>"))
        if op == "equal":
            parts.append(escape(before[a1:a2]))
    return Markup("").join(parts)


def expiring(today: date | None = None) -> list[KbArticle]:
    """Published articles expired or expiring within 30 days: a team lead must renew or retire them."""
    today = today or date.today()
    return db.session.scalars(select(KbArticle).where(
        KbArticle.status == "published", KbArticle.effective_to.is_not(None),
        KbArticle.effective_to <= today + EXPIRY_WARNING).order_by(KbArticle.effective_to)).all()


def review_queue() -> list[KbArticleVersion]:
    return db.session.scalars(select(KbArticleVersion).where(KbArticleVersion.state == "submitted")
                              .order_by(KbArticleVersion.submitted_at)).all()


# ------------------------------------------------------------------------------------------------ synonyms


def save_synonyms(group_id: int | None, line: str, user: User) -> KbSynonym:
    words = list(dict.fromkeys(w.strip() for w in re.split(r"[,，、\s]+", line or "") if w.strip()))
    if len(words) < 2:
        raise KbRefused("同义词组至少需要两个词，用逗号分隔")
    if any(len(w) > 20 for w in words):
        raise KbRefused("每个词不超过 20 个字")
    group = db.session.get(KbSynonym, group_id) if group_id else KbSynonym()
    if group is None:
        raise KbRefused("同义词组不存在")
    group.terms, group.updated_by_id, group.updated_at = ",".join(words), user.id, utcnow()
    db.session.add(group)
    db.session.commit()
    search.add_words(words)
    return group


def delete_synonyms(group_id: int) -> None:
    group = db.session.get(KbSynonym, group_id)
    if group is not None:
        db.session.delete(group)
        db.session.commit()


def load_default_synonyms() -> int:
    """The shipped synonym groups (app/knowledge/synonyms.txt), into an empty table."""
    if db.session.scalar(select(func.count(KbSynonym.id))):
        return 0
    groups = search.file_synonyms()
    for words in groups:
        db.session.add(KbSynonym(terms=",".join(words)))
    db.session.commit()
    return len(groups)


# ------------------------------------------------------------------------------------------------ answer use


def record_use(article_id: int, ticket_id: int | None, user: User, source: str = "intake") -> KbAnswerUse | None:
    """Which article answered which ticket (caller commits with the ticket)."""
    article = db.session.get(KbArticle, article_id)
    if article is None or article.status != "published":
        return None
    use = KbAnswerUse(article_id=article.id, version_id=article.published_version_id, ticket_id=ticket_id,
                      user_id=user.id, source=source)
    db.session.add(use)
    return use


def use_count(article: KbArticle) -> int:
    return db.session.scalar(select(func.count(KbAnswerUse.id)).where(KbAnswerUse.article_id == article.id)) or 0


# ------------------------------------------------------------------------------------------------ policy changes


def register_policy_change(title: str, document_ref: str, summary: str, received_at: datetime,
                           article_ids: list[int], user: User) -> PolicyChange:
    """Record a change and the articles it affects; the deadline is one working day after receipt."""
    title = (title or "").strip()
    if len(title) < 4:
        raise KbRefused("请填写政策变更的标题（至少 4 个字）")
    if received_at.tzinfo is None:
        raise KbRefused("收到时间缺少时区")
    if received_at > utcnow() + timedelta(minutes=5):
        raise KbRefused("收到时间不能晚于现在")
    articles = db.session.scalars(select(KbArticle).where(KbArticle.id.in_(article_ids or [-1]))).all()
    if not articles:
        raise KbRefused("请至少选择一篇受影响的知识库文章")
    change = PolicyChange(title=title[:200], document_ref=(document_ref or "").strip()[:200],
                          summary=(summary or "").strip(), received_at=received_at,
                          due_at=add_working_days(received_at, 1), registered_by_id=user.id)
    db.session.add(change)
    db.session.flush()
    for article in articles:
        db.session.add(PolicyChangeArticle(policy_change_id=change.id, article_id=article.id))
    db.session.commit()
    return change


def likely_affected(title: str, summary: str, limit: int = 10) -> list[search.Hit]:
    return search.search(f"{title} {summary}", limit=limit, include_expired=True)


def _policy_changes_answered(article: KbArticle, version: KbArticleVersion, now: datetime) -> None:
    """A version published after a change was received answers that change for this article."""
    items = db.session.scalars(select(PolicyChangeArticle).join(PolicyChange).where(
        PolicyChangeArticle.article_id == article.id, PolicyChangeArticle.published_at.is_(None),
        PolicyChange.received_at <= now)).all()
    for item in items:
        item.published_version_id, item.published_at = version.id, now
        change = item.change
        db.session.flush()
        if all(i.published_at is not None for i in change.items):
            change.completed_at = max(i.published_at for i in change.items)


def policy_status(change: PolicyChange, now: datetime | None = None) -> str:
    now = now or utcnow()
    if change.completed_at is not None:
        return "on_time" if change.completed_at <= change.due_at else "late"
    return "overdue" if now > change.due_at else "pending"


POLICY_STATUS_LABELS = {"on_time": "按时更新", "late": "超时更新", "overdue": "已超时未更新", "pending": "待更新"}


def timeliness(start: datetime, end: datetime, now: datetime | None = None) -> dict:
    """The KB timeliness indicator for changes received in [start, end): share updated within one working day."""
    changes = db.session.scalars(select(PolicyChange).where(PolicyChange.received_at >= start,
                                                            PolicyChange.received_at < end)).all()
    statuses = [policy_status(c, now) for c in changes]
    on_time = statuses.count("on_time")
    return {"total": len(changes), "on_time": on_time, "late": statuses.count("late"),
            "overdue": statuses.count("overdue"), "pending": statuses.count("pending"),
            "rate": round(on_time / len(changes), 4) if changes else None}
