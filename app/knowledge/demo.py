"""Demo knowledge base: the shipped synonym groups and the articles in demo_articles.json, published,
so that search and intake suggestions work on a fresh installation."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.knowledge import services
from app.knowledge.services import ArticleInput
from app.models import User
from app.models.knowledge import KbArticle

ARTICLES = Path(__file__).resolve().parent / "demo_articles.json"


def load_articles() -> list[dict]:
    return json.loads(ARTICLES.read_text(encoding="utf-8"))


def seed_knowledge(author: User | None = None) -> int:
    """Publish the demo articles into an empty knowledge base; returns how many were written."""
    services.load_default_synonyms()
    if db.session.scalar(select(func.count(KbArticle.id))):
        return 0
    articles = load_articles()
    for item in articles:
        data = ArticleInput(category_id=services.category_path_id(item["category"]), question=item["question"],
                            answer=item["answer"], tags="、".join(item.get("tags", [])),
                            policy_ref=item.get("policy_ref", ""), visibility=item.get("visibility", "internal"),
                            effective_from=None, effective_to=None, note="初始知识库")
        services.publish(services.write_version(None, data, author))
    db.session.commit()
    return len(articles)
