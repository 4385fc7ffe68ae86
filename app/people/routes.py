"""Views: /people/ — search, the person page (behind its access rules), reveal, edit, lookup JSON, export."""

from __future__ import annotations

import io

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.auth.permissions import can, permission_required
from app.extensions import db
from app.models import Person, Ticket
from app.people import access, bp, services
from app.people.access import Access
from app.people.forms import ExportForm, PersonForm, ReasonForm, RevealForm, SearchForm
from app.people.identity import InvalidIdentifier, mask

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.after_request
def never_cache(response):
    # Personal data must not stay in a shared browser's cache or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("masked")
def masked_filter(value):
    return mask(value)


def _person(person_id: int) -> Person:
    return db.session.get(Person, person_id) or abort(404)


def _search_grounds() -> Access | None:
    """The ticket or call a search serves, when the link carried one (kept in the log and in the links)."""
    source = request.args
    if request.method == "POST":
        source = MultiDict(request.get_json(silent=True) or {}) if request.is_json else request.form
    ticket_id = source.get("ticket", type=int)
    context = access.parse_context(source.get("context"))
    if ticket_id and db.session.get(Ticket, ticket_id) is None:
        ticket_id = None
    return Access(ticket_id=ticket_id, context=context) if ticket_id or context else None


@bp.route("/", methods=["GET", "POST"])
@permission_required("people.view")
def index():
    """GET ?q= for links; the page's own form posts, so a typed number stays out of URLs and logs."""
    if request.method == "POST" and not SearchForm().validate_on_submit():
        abort(400)
    q = (request.form.get("q") if request.method == "POST" else request.args.get("q", "")) or ""
    grounds = _search_grounds()
    outcome = services.search(current_user, q.strip(), grounds, request.remote_addr) if q.strip() else None
    return _search_page(outcome, grounds)


def _search_page(outcome, grounds, export_form=None, status: int = 200):
    if export_form is None:
        export_form = ExportForm(formdata=None, kind=outcome.kind if outcome else "", key=outcome.key if outcome else "")
    return render_template("people/index.html", outcome=outcome, grounds=grounds, form=SearchForm(formdata=None),
                           link_args=grounds.url_args() if grounds else {}, export_form=export_form), status


@bp.route("/export", methods=["POST"])
@permission_required("people.view")
def export():
    form = ExportForm()
    form.validate_on_submit()
    reason, problem = access.check_reason(form.reason.data)
    if not form.key.data or form.kind.data not in services.SEARCH_KINDS:
        problem = "请先查询，再导出查询结果。"
    if problem:
        flash(f"未导出：{problem}", "danger")
        return _search_page(None, None, form, 422)
    data, count = services.export_search(current_user, form.kind.data, form.key.data, reason, request.remote_addr)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"参保人查询结果（{count} 人）.xlsx")


@bp.route("/lookup.json", methods=["GET", "POST"])
@permission_required("people.view")
def lookup():
    """The people with a phone number, masked — for the intake page and the future screen pop.

    GET ?phone= as specified; POST (form or JSON body, CSRF token in X-CSRFToken) keeps the number
    out of URLs and thus out of web-server access logs."""
    source = (request.get_json(silent=True) or request.form) if request.method == "POST" else request.args
    phone = str(source.get("phone") or "").strip()
    if not phone:
        return jsonify(error="请提供电话号码（phone）。"), 400
    grounds = _search_grounds()
    try:
        shown, views = services.lookup_phone(current_user, phone, grounds, request.remote_addr)
    except InvalidIdentifier as exc:
        return jsonify(error=str(exc)), 400
    args = grounds.url_args() if grounds else {}
    return jsonify(phone=shown, count=len(views),
                   people=[v.summary(url_for("people.show", person_id=v.person.id, **args)) for v in views])


@bp.route("/<int:person_id>")
@permission_required("people.view")
def show(person_id: int):
    person = _person(person_id)
    grounds, note = access.access_from(current_user, person, request.args)
    if grounds is None:  # nothing about the person is shown until the look has grounds
        return render_template("people/reason.html", person_id=person.id, form=ReasonForm(), note=note)
    return _page(services.open_person(current_user, person, grounds, request.remote_addr), grounds)


def _page(view: services.PersonView, grounds: Access, form: PersonForm | None = None, errors=None, status: int = 200):
    person = view.person
    if form is None:
        form = PersonForm(formdata=None, obj=person, **grounds.url_args())
    tickets = services.tickets_of(current_user, person) if can(current_user, "tickets.view_all") or can(
        current_user, "tickets.view_department") else []
    return render_template("people/show.html", view=view, person=person, grounds=grounds, form=form,
                           reveal_form=RevealForm(formdata=None), errors=errors or [], tickets=tickets,
                           changes=services.changes_of(person), age=services.age_text(person),
                           field_labels=services.FIELD_LABELS,
                           link_args=grounds.url_args()), status


@bp.route("/<int:person_id>/access", methods=["POST"])
@permission_required("people.view")
def give_reason(person_id: int):
    person = _person(person_id)
    form = ReasonForm()
    form.validate_on_submit()
    reason, problem = access.check_reason(form.reason.data)
    if problem:
        return render_template("people/reason.html", person_id=person.id, form=form, note=None, error=problem), 422
    access.grant(current_user, person.id, reason)
    return redirect(url_for("people.show", person_id=person.id))


@bp.route("/<int:person_id>/reveal", methods=["POST"])
@permission_required("people.reveal")
def reveal(person_id: int):
    person = _person(person_id)
    form = RevealForm()
    form.validate_on_submit()
    reason, problem = access.check_reason(form.reason.data)
    if problem:
        flash(f"未显示完整号码：{problem}", "danger")
        return redirect(url_for("people.show", person_id=person.id, **_posted_grounds()))
    view = services.reveal(current_user, person, reason, request.remote_addr)
    return _page(view, Access(reason=reason))


def _posted_grounds() -> dict:
    return {k: v for k in ("ticket", "context") if (v := request.form.get(k))}


@bp.route("/<int:person_id>/edit", methods=["POST"])
@permission_required("people.edit")
def edit(person_id: int):
    person = _person(person_id)
    grounds, _note = access.access_from(current_user, person, MultiDict(_posted_grounds()))
    if grounds is None:
        flash("请先填写查询理由，再修改参保人资料。", "warning")
        return redirect(url_for("people.show", person_id=person.id))
    form = PersonForm()
    errors = [] if form.validate_on_submit() else [f"{form[n].label.text}：{m[0]}" for n, m in form.errors.items()]
    if not errors:
        data = services.EditInput(
            name=form.name.data or "", insurance_type=form.insurance_type.data or "",
            insured_status=form.insured_status.data or "", unit=form.unit.data or "", region=form.region.data or "",
            notes=form.notes.data or "", new_id_number=form.new_id_number.data or "", add_phones=form.add_phones.data or "",
            remove_phone_ids=[int(v) for v in request.form.getlist("remove_phone_ids") if v.isdigit()])
        errors = services.update_person(current_user, person, data, grounds, request.remote_addr)
    if errors:
        return _page(services.open_person(current_user, person, grounds, request.remote_addr), grounds, form, errors, 422)
    flash("参保人资料已保存，修改已记入变更历史。", "success")
    return redirect(url_for("people.show", person_id=person.id, **grounds.url_args()))
