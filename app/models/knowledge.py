"""The knowledge base 知识库: articles in a category tree, each edit a version reviewed before it is
published, a word index for Chinese search, synonym groups, which article answered which ticket,
and policy changes 政策变更 with their one-working-day deadline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class KbCategory(db.Model):
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_category.id"))

    parent = relationship("KbCategory", remote_side=[id])


class KbArticle(db.Model):
    """An article: its published version is what agents and search see; its newest version may be a
    draft or waiting for review. The searchable text of the published version is copied here."""

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_category.id"), index=True)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("kb_article_version.id", use_alter=True))
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(300), default="")  # "、"-separated
    policy_ref: Mapped[str] = mapped_column(String(200), default="")
    visibility: Mapped[str] = mapped_column(String(10), default="internal")  # internal, public
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft, published, retired
    term_count: Mapped[int] = mapped_column(Integer, default=0)  # weighted length, for scoring
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category = relationship(KbCategory)
    published_version = relationship("KbArticleVersion", foreign_keys=[published_version_id], post_update=True)


class KbArticleVersion(db.Model):
    """One edit of an article. draft → submitted (待审核) → published, or back to draft with the
    reviewer's note; a published version is superseded by the next one."""

    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft, submitted, published, superseded
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_category.id"))
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(300), default="")
    policy_ref: Mapped[str] = mapped_column(String(200), default="")
    visibility: Mapped[str] = mapped_column(String(10), default="internal")
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")  # the author's change note
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    article = relationship(KbArticle, foreign_keys=[article_id])
    category = relationship(KbCategory)
    author = relationship("User", foreign_keys=[author_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])


class KbTerm(db.Model):
    """The word index of published articles: one row per (word, article) with the word's weight
    (occurrences × field weight). Plain rows and plain indexes, so search is the same on SQLite and
    PostgreSQL and needs no database extension."""

    # (term, weight, article_id): a word's strongest postings are read backwards off the index alone.
    __table_args__ = (Index("ix_kb_term_term_weight", "term", "weight", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(40))
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id", ondelete="CASCADE"), index=True)
    weight: Mapped[float] = mapped_column(Float)


class KbSynonym(db.Model):
    """A group of words that mean the same to a caller (门特 = 门诊特殊疾病), the canonical one first."""

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[str] = mapped_column(String(400))  # comma-separated
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbAnswerUse(db.Model):
    """An article's answer used for a ticket (inserted at intake or in a chat): QA and KB statistics."""

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("kb_article_version.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    source: Mapped[str] = mapped_column(String(12), default="intake")  # intake, chat
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyChange(db.Model):
    """A policy change received by the centre: the articles it affects must be updated and published
    within one working day of its receipt (the knowledge base timeliness indicator)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    document_ref: Mapped[str] = mapped_column(String(200), default="")  # 文号
    summary: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last affected article published
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registered_by = relationship("User")
    items = relationship("PolicyChangeArticle", back_populates="change", order_by="PolicyChangeArticle.id")


class PolicyChangeArticle(db.Model):
    __table_args__ = (UniqueConstraint("policy_change_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_change_id: Mapped[int] = mapped_column(ForeignKey("policy_change.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("kb_article_version.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    change = relationship(PolicyChange, back_populates="items")
    article = relationship(KbArticle)
