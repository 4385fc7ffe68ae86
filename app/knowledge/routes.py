"""Views: /kb/ search, live suggestions, article pages, writing and reviewing versions."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.knowledge import bp, search, services
from app.knowledge.forms import article_input
from app.knowledge.services import STATE_LABELS, VISIBILITY, KbRefused
from app.models.knowledge import KbArticle, KbArticleVersion


def _article(article_id: int) -> KbArticle:
    article = db.session.get(KbArticle, article_id) or abort(404)
    if article.status != "published" and not can(current_user, "kb.edit"):
        abort(404)  # drafts are the editors' business
    return article


@bp.route("/")
@permission_required("kb.view")
def index():
    q = request.args.get("q", "").strip()
    category = request.args.get("category", type=int)
    visibility = request.args.get("visibility") if request.args.get("visibility") in VISIBILITY else None
    tag = request.args.get("tag", "").strip() or None
    hits = search.search(q, limit=30, category_ids=services.category_and_below(category) if category else None,
                         visibility=visibility, tag=tag) if q else []
    return render_template(
        "knowledge/index.html", q=q, hits=hits, categories=services.category_choices(), category=category,
        visibility=visibility, tag=tag or "", visibility_labels=VISIBILITY,
        review_queue=services.review_queue() if can(current_user, "kb.review") else [],
        expiring=services.expiring() if can(current_user, "kb.edit") else [])


@bp.route("/suggest.json")
@permission_required("kb.view")
def suggest():
    """The top articles for what an agent is typing (intake content, a chat): question, highlighted
    snippet and the whole answer, which one key inserts into the reply."""
    q = request.args.get("q", "")[:500]
    hits = search.search(q, limit=5) if len(q.strip()) >= 2 else []
    return jsonify(articles=[{
        "id": hit.article.id, "question": str(hit.highlight(hit.article.question)), "snippet": str(hit.snippet()),
        "answer": hit.article.answer, "visibility": hit.article.visibility,
        "url": url_for("knowledge.article", article_id=hit.article.id)} for hit in hits])


@bp.route("/articles/<int:article_id>")
@permission_required("kb.view")
def article(article_id: int):
    item = _article(article_id)
    history = services.versions(item) if can(current_user, "kb.edit") else []
    return render_template("knowledge/article.html", article=item, history=history, state_labels=STATE_LABELS,
                           visibility_labels=VISIBILITY, working=services.working_version(item),
                           uses=services.use_count(item))


@bp.route("/articles/<int:article_id>/versions/<int:number>")
@permission_required("kb.edit")
def version(article_id: int, number: int):
    item = _article(article_id)
    versions = services.versions(item)
    this = next((v for v in versions if v.number == number), None) or abort(404)
    previous = next((v for v in versions if v.number < number and v.state in ("published", "superseded")), None)
    return render_template("knowledge/version.html", article=item, version=this, previous=previous,
                           changes=services.version_diff(previous, this), state_labels=STATE_LABELS,
                           visibility_labels=VISIBILITY)


@bp.route("/articles/new", methods=["GET", "POST"])
@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@permission_required("kb.edit")
def edit(article_id: int | None = None):
    item = _article(article_id) if article_id else None
    source = (services.working_version(item) or item.published_version) if item else None
    error = None
    if request.method == "POST":
        try:
            saved = services.save_draft(item, article_input(request.form), current_user)
            if request.form.get("submit_for_review"):
                services.submit(saved, current_user)
                flash("已保存并提交审核，班长审核通过后发布。", "success")
            else:
                flash("草稿已保存。", "success")
            return redirect(url_for("knowledge.article", article_id=saved.article_id))
        except KbRefused as refused:
            db.session.rollback()
            error, source = str(refused), request.form
    return render_template("knowledge/edit.html", article=item, source=source, error=error,
                           categories=services.category_choices(), visibility_labels=VISIBILITY)


@bp.route("/versions/<int:version_id>/submit", methods=["POST"])
@permission_required("kb.edit")
def submit(version_id: int):
    version = db.session.get(KbArticleVersion, version_id) or abort(404)
    try:
        services.submit(version, current_user)
        flash("已提交审核。", "success")
    except KbRefused as refused:
        flash(str(refused), "danger")
    return redirect(url_for("knowledge.article", article_id=version.article_id))


@bp.route("/versions/<int:version_id>/review", methods=["POST"])
@permission_required("kb.review")
def review(version_id: int):
    version = db.session.get(KbArticleVersion, version_id) or abort(404)
    approve = request.form.get("decision") == "approve"
    try:
        services.review(version, current_user, approve, request.form.get("note", ""))
        flash("已审核通过并发布。" if approve else "已退回修改。", "success")
    except KbRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
    return redirect(url_for("knowledge.article", article_id=version.article_id))


@bp.route("/articles/<int:article_id>/retire", methods=["POST"])
@permission_required("kb.review")
def retire(article_id: int):
    item = _article(article_id)
    services.retire(item)
    flash("文章已下线，不再出现在检索与推荐中。", "success")
    return redirect(url_for("knowledge.article", article_id=item.id))
