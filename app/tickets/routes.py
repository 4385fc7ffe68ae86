"""Views: /tickets/new (受理), /tickets/<id>, /tickets/<id>/tasks/<task_id>."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin.org_services import department_choices
from app.auth.permissions import permission_required
from app.tickets import bp, services
from app.tickets.form_fields import coerce, fields
from workflows.engine import StepConflict, StepRefused


@bp.route("/new", methods=["GET", "POST"])
@permission_required("tickets.intake")
def new():
    schema = services.form_schema(None, services.INTAKE_FORM)
    values: dict = {"channel": request.args.get("channel", "phone"), "urgency": "normal",
                    "caller_phone": request.args.get("phone", "")}
    from app.chats.services import attach_transcript, intake_prefill

    values.update(intake_prefill(current_user, request.args.get("contact", type=int)))  # 转为工单 from a chat
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        values = coerce(schema, request.form)
        values["answered_on_spot"] = request.form.get("handling") == "on_spot"
        dispatch_to = request.form.get("department_id", type=int)
        if not values["answered_on_spot"] and not dispatch_to:
            errors["department_id"] = "请选择承办部门，或改为当场答复"
        else:
            try:
                ticket, problem = services.intake(current_user, values, dispatch_to, request.remote_addr)
            except StepRefused as exc:
                errors, message = exc.errors, exc.message
            else:
                from app.calls.services import link_recorded_ticket

                link_recorded_ticket(request.form.get("contact_id", type=int), ticket.id, current_user,
                                     request.remote_addr)
                attach_transcript(current_user, request.form.get("contact_id", type=int), ticket, request.remote_addr)
                article_id = request.form.get("kb_article_id", type=int)
                if article_id and values["answered_on_spot"]:
                    services.record_kb_answer(ticket, article_id, current_user)
                if problem:
                    flash(f"工单 {ticket.number} 已受理，但派单未完成：{problem}", "warning")
                else:
                    done = "并派单" if dispatch_to and not values["answered_on_spot"] else ""
                    flash(f"工单 {ticket.number} 已受理{done}。按 N 受理下一个来电。", "success")
                return redirect(url_for("tickets.show", ticket_id=ticket.id, just_created=1))
    shown = {f.name: f for f in fields(schema, values, errors)}
    if "category" in shown and services.speaks_english(current_user):  # 英语坐席 read them in English too
        shown["category"].choices = services.with_english_categories(shown["category"].choices)
    return render_template("tickets/new.html", fields=shown,
                           values=values, errors=errors, message=message,
                           handling=request.form.get("handling", "dispatch"), department_choices=department_choices(),
                           department_id=request.form.get("department_id", type=int),
                           contact_id=request.values.get("contact", type=int) or request.form.get("contact_id", type=int)), (
        422 if errors else 200)


@bp.route("/<int:ticket_id>")
@permission_required("tickets.view_all", "tickets.view_department")
def show(ticket_id: int):
    from app.admin.forms import ConfirmForm
    from app.tickets.routes_extra import notes_and_files

    ticket = services.visible_ticket(current_user, ticket_id)
    tasks = services.open_tasks(ticket)
    notes, files = notes_and_files(ticket.id)
    return render_template("tickets/show.html", ticket=ticket, tasks=tasks,
                           workable={t.id for t in tasks if services.may_work(current_user, t)},
                           timeline=services.timeline(ticket), sla_events=services.sla_events(ticket),
                           notes=notes, files=files, confirm=ConfirmForm(), calls=services.calls_of(ticket))


@bp.route("/<int:ticket_id>/tasks/<task_id>", methods=["GET", "POST"])
@permission_required("tasks.work")
def task(ticket_id: int, task_id: str):
    ticket = services.visible_ticket(current_user, ticket_id)
    open_task = services.workable_task(current_user, ticket, task_id)
    schema = services.form_schema(ticket, open_task.form or "")
    values: dict = {}
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        values = coerce(schema, request.form)
        title = open_task.title  # the row is gone once the step commits
        try:
            services.complete(current_user, ticket, open_task, values, request.remote_addr)
        except StepConflict as exc:
            flash(exc.message, "warning")
            return redirect(url_for("tickets.show", ticket_id=ticket.id))
        except StepRefused as exc:
            errors, message = exc.errors, exc.message
        else:
            flash(f"“{title}”已完成。", "success")
            return redirect(url_for("inbox.index"))
    return render_template("tickets/task.html", ticket=ticket, task=open_task, message=message,
                           fields=fields(schema, values, errors), timeline=services.timeline(ticket)), (
        422 if errors or message else 200)


# Object-level checks (department scope, lane role, claims) may still refuse these with 403.
show.object_scoped = True  # type: ignore[attr-defined]
task.object_scoped = True  # type: ignore[attr-defined]
