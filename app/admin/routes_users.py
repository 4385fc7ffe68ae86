"""Views: /admin/users — list, create, edit, disable, reset password, unlock, import, roles."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp, user_import, user_services
from app.admin.forms import ConfirmForm, ImportUsersForm, UserForm
from app.admin.org_services import department_choices
from app.admin.user_services import UserInput
from app.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, permission_required
from app.extensions import db
from app.models import Skill, Team, User
from app.roles import ROLE_LABELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get_user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _prepare(form: UserForm) -> list[Skill]:
    form.team_id.choices = [(0, "（无）")] + [(t.id, t.name) for t in db.session.scalars(select(Team).order_by(Team.name))]
    form.department_ids.choices = department_choices()
    return list(db.session.scalars(select(Skill).where(Skill.active.is_(True)).order_by(Skill.kind, Skill.code)))


def _input_from(form: UserForm, skills: list[Skill]) -> UserInput:
    levels = {}
    for skill in skills:
        level = request.form.get(f"skill-{skill.id}", type=int) or 0
        if level:
            levels[skill.id] = level
    return UserInput(
        username=form.username.data.strip(),
        display_name=form.display_name.data,
        roles=form.roles.data or [],
        department_ids=form.department_ids.data or [],
        team_id=form.team_id.data or None,
        skills=levels,
        employee_no=(form.employee_no.data or "").strip() or None,
        phone=(form.phone.data or "").strip() or None,
        email=(form.email.data or "").strip() or None,
    )


@bp.route("/users")
@permission_required("admin.users")
def users():
    search = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    dept = request.args.get("department", 0, type=int)
    status = request.args.get("status", "")
    page = user_services.users_page(search, role, dept or None, status, request.args.get("page", 1, type=int))
    return render_template("admin/users.html", page=page, q=search, role=role, department=dept, status=status,
                           departments=department_choices(active_only=False), roles=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("admin.users")
def new_user():
    form = UserForm()
    skills = _prepare(form)
    errors: list = []
    if form.validate_on_submit():
        user, password, errors = user_services.create_user(_input_from(form, skills))
        if user is not None:
            flash(f"已创建用户 {user.username}。临时密码：{password}（仅显示一次，请转交本人，首次登录须修改）", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, skills=skills, levels={}, errors=errors, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def edit_user(user_id: int):
    user = _get_user(user_id)
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    skills = _prepare(form)
    if request.method == "GET":
        form.roles.data = user.roles
        form.department_ids.data = [d.id for d in user.departments]
        form.team_id.data = user.team_id or 0
    levels = {s.skill_id: s.level for s in user.skills}
    errors: list = []
    if form.validate_on_submit():
        data = _input_from(form, skills)
        errors = user_services.update_user(user, data)
        if not errors:
            flash("用户信息已保存。", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
        levels = data.skills
    return render_template("admin/user_form.html", form=form, skills=skills, levels=levels, errors=errors,
                           user=user, confirm=ConfirmForm())


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@permission_required("admin.users")
def set_user_active(user_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _get_user(user_id)
    active = request.form.get("active") == "1"
    problem = user_services.set_active(user, active, current_user)
    flash(problem or (f"已启用 {user.username}。" if active else f"已停用 {user.username}，其登录会话已失效。"),
          "danger" if problem else "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@permission_required("admin.users")
def reset_user_password(user_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _get_user(user_id)
    password = user_services.reset_password(user)
    flash(f"已重置 {user.username} 的密码。临时密码：{password}（仅显示一次，首次登录须修改）", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@permission_required("admin.users")
def unlock_user(user_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _get_user(user_id)
    user_services.unlock(user)
    flash(f"已解除 {user.username} 的登录锁定。", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/import", methods=["GET", "POST"])
@permission_required("admin.users")
def import_users():
    form = ImportUsersForm()
    outcome = None
    if form.validate_on_submit():
        outcome = user_import.import_users(form.file.data.stream)
        status = 200 if outcome.ok else 422
        return render_template("admin/import_users.html", form=form, outcome=outcome), status
    return render_template("admin/import_users.html", form=form, outcome=outcome)


@bp.route("/users/import/template.xlsx")
@permission_required("admin.users")
def import_template():
    return send_file(io.BytesIO(user_import.template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="用户导入模板.xlsx")


@bp.route("/roles")
@permission_required("admin.users")
def roles():
    return render_template("admin/roles.html", roles=ROLE_LABELS, role_permissions=ROLE_PERMISSIONS,
                           permissions=PERMISSIONS)

