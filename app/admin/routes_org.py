"""Views: /admin/departments, /admin/teams, /admin/skills."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.admin import bp, org_services
from app.admin.forms import ConfirmForm, DepartmentForm, SkillForm, TeamForm
from app.auth.permissions import permission_required
from app.extensions import db
from app.models import Department, Skill, Team


@bp.route("/departments")
@permission_required("admin.org")
def departments():
    return render_template("admin/departments.html", tree=org_services.department_tree(), confirm=ConfirmForm())


@bp.route("/departments/new", methods=["GET", "POST"])
@bp.route("/departments/<int:dept_id>", methods=["GET", "POST"])
@permission_required("admin.org")
def edit_department(dept_id: int | None = None):
    dept = db.session.get(Department, dept_id) if dept_id else None
    if dept_id and dept is None:
        abort(404)
    form = DepartmentForm(obj=dept) if request.method == "GET" and dept else DepartmentForm()
    form.parent_id.choices = org_services.department_choices(blank="（无，顶级部门）")
    if request.method == "GET" and dept:
        form.parent_id.data = dept.parent_id or 0
    errors: list[str] = []
    if form.validate_on_submit():
        data = org_services.DepartmentInput(
            code=form.code.data.strip(), name=form.name.data, kind=form.kind.data,
            parent_id=form.parent_id.data or None, phone=(form.phone.data or "").strip() or None,
            sort_order=form.sort_order.data or 0,
        )
        saved, errors = org_services.save_department(data, dept)
        if saved:
            flash(f"部门“{saved.name}”已保存。", "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, dept=dept, errors=errors)


@bp.route("/departments/<int:dept_id>/active", methods=["POST"])
@permission_required("admin.org")
def set_department_active(dept_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    dept = db.session.get(Department, dept_id) or abort(404)
    active = request.form.get("active") == "1"
    problem = org_services.set_department_active(dept, active)
    flash(problem or f"部门“{dept.name}”已{'启用' if active else '停用'}。", "danger" if problem else "success")
    return redirect(url_for("admin.departments"))


@bp.route("/teams")
@permission_required("admin.org")
def teams():
    rows = db.session.scalars(select(Team).order_by(Team.name)).all()
    return render_template("admin/teams.html", teams=rows)


@bp.route("/teams/new", methods=["GET", "POST"])
@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@permission_required("admin.org")
def edit_team(team_id: int | None = None):
    team = db.session.get(Team, team_id) if team_id else None
    if team_id and team is None:
        abort(404)
    form = TeamForm(obj=team) if request.method == "GET" and team else TeamForm()
    form.department_id.choices = org_services.department_choices(blank="（无）")
    form.leader_id.choices = org_services.team_leader_choices()
    if request.method == "GET" and team:
        form.department_id.data, form.leader_id.data = team.department_id or 0, team.leader_id or 0
    errors: list[str] = []
    if form.validate_on_submit():
        saved, errors = org_services.save_team(form.name.data, form.department_id.data or None,
                                               form.leader_id.data or None, team)
        if saved:
            flash(f"班组“{saved.name}”已保存。", "success")
            return redirect(url_for("admin.teams"))
    return render_template("admin/team_form.html", form=form, team=team, errors=errors)


@bp.route("/skills")
@permission_required("admin.users")
def skills():
    rows = db.session.scalars(select(Skill).order_by(Skill.kind, Skill.code)).all()
    return render_template("admin/skills.html", skills=rows)


@bp.route("/skills/new", methods=["GET", "POST"])
@bp.route("/skills/<int:skill_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def edit_skill(skill_id: int | None = None):
    skill = db.session.get(Skill, skill_id) if skill_id else None
    if skill_id and skill is None:
        abort(404)
    form = SkillForm(obj=skill) if request.method == "GET" and skill else SkillForm()
    errors: list[str] = []
    if form.validate_on_submit():
        saved, errors = org_services.save_skill(form.code.data, form.name.data, form.kind.data, skill)
        if saved:
            flash(f"技能“{saved.name}”已保存。", "success")
            return redirect(url_for("admin.skills"))
    return render_template("admin/skill_form.html", form=form, skill=skill, errors=errors)
