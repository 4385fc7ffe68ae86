"""Departments, teams, skills — and the department scope every ticket query will go through."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.scope import may_see_department, scope_to_departments, visible_department_ids
from app.extensions import db
from app.models import Department
from tests import factories
from tests.conftest import csrf_token


def _tree():
    centre = factories.department("YB", "医疗保障服务中心", kind="centre")
    dy = factories.department("DY", "待遇保障科", parent=centre)
    cg = factories.department("CG", "城关区医疗保障局", parent=centre, kind="district_bureau")
    window = factories.department("CG-JD", "城关区经办窗口", parent=cg)
    return centre, dy, cg, window


def test_department_handler_sees_only_their_department_and_the_units_below_it(app):
    centre, dy, cg, window = _tree()
    handler_cg = factories.user("handler_cg", ["dept_handler"], departments=[cg])
    handler_dy = factories.user("handler_dy", ["dept_handler"], departments=[dy])
    query = select(Department.code).order_by(Department.code)
    assert db.session.scalars(scope_to_departments(query, handler_cg, Department.id)).all() == ["CG", "CG-JD"]
    assert db.session.scalars(scope_to_departments(query, handler_dy, Department.id)).all() == ["DY"]
    assert not may_see_department(handler_dy, cg.id)
    assert may_see_department(handler_cg, window.id)


def test_hotline_staff_see_every_department_and_others_none(app):
    centre, dy, cg, window = _tree()
    agent = factories.user("agent1", ["agent"])
    admin = factories.user("admin1", ["admin"])  # manages accounts, handles no tickets
    query = select(Department.code)
    assert visible_department_ids(agent) is None
    assert len(db.session.scalars(scope_to_departments(query, agent, Department.id)).all()) == 4
    assert db.session.scalars(scope_to_departments(query, admin, Department.id)).all() == []
    assert not may_see_department(admin, dy.id)


def test_a_department_cannot_be_moved_under_its_own_child(client, auth):
    centre, dy, cg, window = _tree()
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, f"/admin/departments/{cg.id}")
    response = client.post(f"/admin/departments/{cg.id}", data={
        "csrf_token": token, "code": "CG", "name": "城关区医疗保障局", "kind": "district_bureau",
        "parent_id": str(window.id), "sort_order": "0"})
    assert "上级部门不能是本部门或其下级部门" in response.get_data(as_text=True)
    db.session.refresh(cg)
    assert cg.parent_id == centre.id


def test_admin_builds_the_department_tree(client, auth):
    centre, *_ = _tree()
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, "/admin/departments/new")
    client.post("/admin/departments/new", data={"csrf_token": token, "code": "QLH", "name": "七里河区医疗保障局",
                                                "kind": "district_bureau", "parent_id": str(centre.id), "sort_order": "5"})
    page = client.get("/admin/departments").get_data(as_text=True)
    assert "七里河区医疗保障局" in page
    created = db.session.scalars(select(Department).where(Department.code == "QLH")).one()
    assert created.parent_id == centre.id and created.path_name == "医疗保障服务中心 / 七里河区医疗保障局"


def test_a_department_with_active_children_cannot_be_disabled(client, auth):
    centre, dy, cg, window = _tree()
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, "/admin/departments")
    response = client.post(f"/admin/departments/{cg.id}/active", data={"csrf_token": token, "active": "0"},
                           follow_redirects=True)
    assert "还有启用中的下级部门" in response.get_data(as_text=True)
    db.session.refresh(cg)
    assert cg.active


def test_team_leader_must_hold_the_team_lead_role(client, auth):
    agent = factories.user("agent1", ["agent"])
    lead = factories.user("lead1", ["team_lead"], display_name="赵敏")
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, "/admin/teams/new")
    refused = client.post("/admin/teams/new", data={"csrf_token": token, "name": "二班", "department_id": "0",
                                                    "leader_id": str(agent.id)})
    assert refused.status_code == 200  # the form is shown again with the error
    client.post("/admin/teams/new", data={"csrf_token": token, "name": "二班", "department_id": "0",
                                          "leader_id": str(lead.id)})
    assert "赵敏" in client.get("/admin/teams").get_data(as_text=True)


def test_skill_codes_are_checked(client, auth):
    factories.user("admin7", ["admin"])
    auth.login("admin7")
    token = csrf_token(client, "/admin/skills/new")
    page = client.post("/admin/skills/new", data={"csrf_token": token, "code": "English Skill", "name": "英语",
                                                  "kind": "language"}).get_data(as_text=True)
    assert "技能编码须为" in page
    client.post("/admin/skills/new", data={"csrf_token": token, "code": "en", "name": "英语", "kind": "language"})
    assert "英语" in client.get("/admin/skills").get_data(as_text=True)
