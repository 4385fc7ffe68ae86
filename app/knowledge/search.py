"""Chinese search over the knowledge base, the same on SQLite and PostgreSQL.

jieba cuts text into words (with the hotline's own dictionary, so 异地就医 and 门诊特殊疾病 stay whole;
search mode also yields their parts, so 就医 finds them too). Published articles are indexed as
(word, article, weight) rows; a query's words are expanded with their synonym groups (门特 →
门诊特殊疾病) and scored in one SQL statement: Σ idf × saturated weight. Words found in most articles
(医保, 办理) are dropped from the scoring when rarer words are present, which keeps the statement cheap.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jieba
from markupsafe import Markup, escape
from sqlalchemy import bindparam, delete, func, insert, select, text

from app.extensions import db
from app.models.knowledge import KbArticle, KbSynonym, KbTerm

HERE = Path(__file__).resolve().parent
FIELD_WEIGHTS = {"question": 3.0, "tags": 2.0, "answer": 1.0, "policy_ref": 1.0}
SATURATION = 6.0  # a word repeated in a long answer counts at most this much
COMMON_SHARE = 0.35  # words in more than this share of articles are dropped when rarer ones exist
POSTINGS = 400  # at least this many of each query word's strongest postings take part in the scoring …
POSTINGS_BUDGET = 20000  # … and up to this many in all, shared among the query's words
RELEVANCE_FLOOR = 0.2
COUNT_TTL = 60.0  # seconds the published-article count is reused
MAX_TERM = 40
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 么 嘛 哦 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 什么 怎么 怎么样 怎样 如何 为什么 请问 "
    "一下 一个 是 有 在 和 与 及 或 就 都 也 还 要 想 能 会 可以 需要 是否 多少 哪些 哪里 哪个 咨询 问 问题 您好 你好 谢谢 "
    "情况 这样 那样 可能 已经 没有 不 没 吗? ? ？ 。 ， , 、 ！ !".split())
WORD = re.compile(r"[\w\u4e00-\u9fff]")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer per process, with the domain dictionary and every synonym as a word."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            t = jieba.Tokenizer()
            if (HERE / "domain_dict.txt").exists():
                t.load_userdict(str(HERE / "domain_dict.txt"))
            for group in file_synonyms():
                for word in group:
                    t.add_word(word, 20000)
            _tokenizer = t
        return _tokenizer


def add_words(words: list[str]) -> None:
    """New synonyms become words at once (a team lead just typed them)."""
    t = tokenizer()
    for word in words:
        t.add_word(word, 20000)


def file_synonyms() -> list[list[str]]:
    path = HERE / "synonyms.txt"
    if not path.exists():
        return []
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [w.strip() for w in re.split(r"[,，]", line) if w.strip()]
        if len(words) > 1 and not line.lstrip().startswith("#"):
            groups.append(words)
    return groups


def words(text_: str, parts: bool = True) -> list[str]:
    """The words of a text as search sees them: search-mode cut (with the parts of long words, unless
    `parts` is False), stopwords and single characters out."""
    t = tokenizer()
    result = []
    for word in (t.lcut_for_search(text_ or "") if parts else t.lcut(text_ or "")):
        word = word.strip().lower()
        if len(word) < 2 or word in STOPWORDS or not WORD.search(word) or len(word) > MAX_TERM:
            continue
        result.append(word)
    return result


# ------------------------------------------------------------------------------------------------ indexing


def article_weights(article: KbArticle) -> Counter:
    weights: Counter = Counter()
    for field, factor in FIELD_WEIGHTS.items():
        value = getattr(article, field) or ""
        for word in words(value):
            weights[word] += factor
        if field == "tags":  # a tag is a word of its own, however jieba cuts it
            for tag in re.split(r"[、,，;；\s]+", value):
                if 2 <= len(tag) <= MAX_TERM:
                    weights[tag.lower()] += factor
    return weights


def index(article: KbArticle) -> None:
    """(Re)write an article's rows in the word index, in the caller's transaction."""
    forget_count()
    db.session.execute(delete(KbTerm).where(KbTerm.article_id == article.id))
    if article.status != "published":
        article.term_count = 0
        return
    weights = article_weights(article)
    article.term_count = int(sum(weights.values()))
    if weights:
        db.session.execute(insert(KbTerm), [{"term": w, "article_id": article.id, "weight": v}
                                            for w, v in weights.items()])


# --------------------------------------------------------------------------------------------------- search


@dataclass
class Hit:
    article: KbArticle
    score: float
    terms: list[str]  # the words that matched, for highlighting

    def highlight(self, value: str) -> Markup:
        return highlight(value, self.terms)

    def snippet(self, width: int = 90) -> Markup:
        return snippet(self.article.answer, self.terms, width)


def synonym_groups() -> list[list[str]]:
    rows = db.session.scalars(select(KbSynonym.terms)).all()
    return [[w.strip().lower() for w in row.split(",") if w.strip()] for row in rows]


def expand(query: str) -> dict[str, float]:
    """The query's words and their synonyms → weight (a synonym counts a little less than the word typed).
    Only whole words are looked up in the synonym groups: 电子医保卡 is one, and its part 医保卡 must not
    bring in 社保卡."""
    wanted: dict[str, float] = {word: 1.0 for word in words(query)}
    groups = synonym_groups()
    for word in words(query, parts=False):
        for group in groups:
            if word in group:
                for other in group:
                    # The synonym itself and its parts: articles indexed before the synonym became a word
                    # hold only the parts (门诊 特殊 疾病), later ones the whole word too.
                    for part in {other, *words(other)}:
                        wanted.setdefault(part, 0.9)
    return wanted


_published_count: tuple[float, int] = (0.0, 0)


def forget_count() -> None:
    global _published_count
    _published_count = (0.0, 0)


def published_count() -> int:
    """How many articles are published — for idf, where a minute-old figure is as good as an exact one."""
    global _published_count
    checked_at, count = _published_count
    if time.monotonic() - checked_at > COUNT_TTL or not count:
        count = db.session.scalar(select(func.count(KbArticle.id)).where(KbArticle.status == "published")) or 0
        _published_count = (time.monotonic(), count)
    return count


BRANCH = ("SELECT * FROM (SELECT article_id, (CASE WHEN weight > :saturation THEN :saturation ELSE weight END) "
          "* :w{i} AS s FROM kb_term WHERE term = :t{i} ORDER BY weight DESC LIMIT :postings) AS p{i}")


def search(query: str, *, limit: int = 10, category_ids: set[int] | None = None, visibility: str | None = None,
           tag: str | None = None, today: date | None = None, include_expired: bool = False) -> list[Hit]:
    wanted = expand(query)
    if not wanted:
        return []
    total = published_count()
    if not total:
        return []
    frequency = dict(db.session.execute(
        select(KbTerm.term, func.count()).where(KbTerm.term.in_(list(wanted))).group_by(KbTerm.term)).all())
    present = {w: df for w, df in frequency.items() if df}
    if not present:
        return []
    total = max(total, *present.values())  # the cached count may lag behind a publication elsewhere
    rare = {w: df for w, df in present.items() if df <= COMMON_SHARE * total}
    scored = rare or present
    idf = {w: wanted[w] * math.log(1 + (total - df + 0.5) / (df + 0.5)) for w, df in scored.items()}
    params: dict = {}
    # Each word contributes only its POSTINGS strongest postings (read backwards off the (term, weight) index):
    # a rare word has fewer than that and counts in full, a common one cannot make the statement slow.
    branches = []
    for i, (w, value) in enumerate(idf.items()):
        params[f"t{i}"], params[f"w{i}"] = w, value
        branches.append(BRANCH.format(i=i))  # noqa: S608 - only the branch number; values are bound
    conditions = ["a.status = 'published'"]
    if visibility:
        conditions.append("a.visibility = :visibility")
        params["visibility"] = visibility
    if category_ids:
        conditions.append("a.category_id IN :categories")
        params["categories"] = sorted(category_ids)
    if tag:
        conditions.append("a.tags LIKE :tag")
        params["tag"] = f"%{tag}%"
    if not include_expired:
        conditions.append("(a.effective_to IS NULL OR a.effective_to >= :today)")
        params["today"] = today or date.today()
    filtered = bool(visibility or category_ids or tag)
    # The best candidates by Σ saturated weight × idf, then a little length normalisation (BM25's idea) and
    # the filters on the article.
    statement = text(f"""
        SELECT c.article_id, c.score / (0.75 + 0.25 * a.term_count / 60.0) AS score
        FROM (SELECT article_id, SUM(s) AS score FROM ({" UNION ALL ".join(branches)}) AS u
              GROUP BY article_id ORDER BY score DESC LIMIT :pool) AS c
        JOIN kb_article a ON a.id = c.article_id
        WHERE {" AND ".join(conditions)}
        ORDER BY score DESC, c.article_id LIMIT :limit""")  # noqa: S608 - only bound values
    if category_ids:
        statement = statement.bindparams(bindparam("categories", expanding=True))
    pool = max(limit * 6, 60) * (8 if filtered else 1)
    postings = max(POSTINGS, POSTINGS_BUDGET // len(idf))
    rows = db.session.execute(statement, {**params, "limit": limit, "pool": pool, "saturation": SATURATION,
                                          "postings": postings}).all()
    if not rows:
        return []
    articles = {a.id: a for a in db.session.scalars(select(KbArticle).where(KbArticle.id.in_([r[0] for r in rows])))}
    matched = sorted(wanted, key=len, reverse=True)
    # The long tail of articles that share one everyday word with the question helps nobody: keep those
    # scoring at least a fifth of the best.
    floor = float(rows[0][1]) * RELEVANCE_FLOOR
    return [Hit(articles[r[0]], float(r[1]), matched) for r in rows if r[0] in articles and float(r[1]) >= floor]


# ------------------------------------------------------------------------------------------------ display


def highlight(value: str, terms: list[str]) -> Markup:
    """The text, escaped, with every matched word marked (longest words first, no overlaps)."""
    value = value or ""
    usable = [t for t in terms if t]
    if not usable:
        return escape(value)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(usable, key=len, reverse=True)), re.IGNORECASE)
    spans: list[list[int]] = []
    for match in pattern.finditer(value):
        if spans and match.start() <= spans[-1][1]:  # touching words read as one: 门诊|特殊|疾病 → 门诊特殊疾病
            spans[-1][1] = max(spans[-1][1], match.end())
        else:
            spans.append([match.start(), match.end()])
    parts, last = [], 0
    for start, end in spans:
        parts.append(escape(value[last:start]))
        parts.append(Markup("<mark>") + escape(value[start:end]) + Markup("</mark>"))
        last = end
    parts.append(escape(value[last:]))
    return Markup("").join(parts)


def snippet(value: str, terms: list[str], width: int = 90) -> Markup:
    """A piece of the answer around its first matched word."""
    value = value or ""
    lowered = value.lower()
    positions = [lowered.find(t) for t in terms if t and lowered.find(t) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = value[start:start + width]
    ellipsis = Markup("…")
    return (ellipsis if start else Markup("")) + highlight(piece, terms) + (
        ellipsis if start + width < len(value) else Markup(""))
