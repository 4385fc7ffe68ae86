"""The ticket's process diagram (可视化闭环): what the JSON marks, who may read it, the layout in the BPMN
files, and bpmn-js drawing it with its markers in a real Chromium."""

from __future__ import annotations

import json
import re
import runpy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from defusedxml import ElementTree
from flask import render_template

from app.extensions import db
from app.models import ProcessVersion
from app.tickets import routes_diagram  # noqa: F401  (registers the route until app/tickets/__init__.py imports it)
from app.tickets.diagram import diagram_state
from tests import factories
from tests.conftest import screenshot
from tests.loop import COMPLAINT, do, handled_round, staff
from workflows import clock, engine, specs
from workflows.audit_trail import Actor
from workflows.sweep import sweep_due_timers

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "app" / "static"
VENDOR = STATIC / "vendor" / "bpmn-js"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "diagram_page.html"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _dispatched_and_accepted(s):
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id, "instructions": "请核查"}, s.agent)
    return do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)


# --- what the JSON marks ---------------------------------------------------------------------


def test_after_intake_dispatch_and_accept_the_handling_step_is_current(app):
    s = staff()
    state = diagram_state(_dispatched_and_accepted(s))
    completed = set(state["completed"])
    assert {"intake", "dispatch", "department_accept"} <= completed
    assert state["active"] == ["department_handle", "handling"]  # the round it runs in is current too
    # The steps the engine ran on its own between the audited ones, and the flows taken, are done as well.
    assert {"start", "record_intake", "on_spot_gateway", "flow_to_handling", "round_start", "plan_dispatch",
            "compute_deadlines", "accept_gateway", "flow_accepted"} <= completed
    assert completed.isdisjoint({"callback", "handling", "flow_send_back", "flow_on_spot", "archived"})
    assert state["fired"] == []
    assert 'id="ticket"' in state["xml"] and "BPMNDiagram" in state["xml"]
    assert 'id="ticket_handling"' in state["subprocess_xml"] and "BPMNDiagram" in state["subprocess_xml"]


def test_an_archived_ticket_has_its_round_and_the_end_event_done(app):
    s = staff()
    ticket = handled_round(engine.start_ticket(COMPLAINT, s.agent), s)
    ticket = do(ticket, "callback", {"satisfaction": "satisfied"}, s.agent)
    state = diagram_state(ticket)
    assert ticket.status == "archived" and state["active"] == []
    assert {"handling", "reply", "round_end", "callback", "record_callback", "flow_satisfied", "archive",
            "archived"} <= set(state["completed"])
    assert "count_redispatch" not in state["completed"]


def test_on_the_spot_answer_skips_the_handling_round(app):
    s = staff()
    ticket = engine.start_ticket({**COMPLAINT, "answered_on_spot": True, "reply": "已当场答复。"}, s.agent)
    state = diagram_state(ticket)
    assert state["active"] == ["callback"]
    assert {"on_spot_gateway", "flow_on_spot"} <= set(state["completed"])
    assert "handling" not in state["completed"] and "flow_to_handling" not in state["completed"]


def _accepted_after_the_deadline(s):
    """A ticket its department accepted at 16:00, after the accept deadline (15:30) fired."""
    with clock.frozen_at(datetime(2026, 2, 12, 10, 0, tzinfo=SHANGHAI)):
        ticket = engine.start_ticket(COMPLAINT, s.agent)
        ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    with clock.frozen_at(datetime(2026, 2, 12, 16, 0, tzinfo=SHANGHAI)):
        sweep_due_timers()
        return do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)


def test_a_satisfaction_message_and_a_fired_timer_are_marked(app):
    s = staff()
    ticket = _accepted_after_the_deadline(s)
    with clock.frozen_at(datetime(2026, 2, 12, 16, 0, tzinfo=SHANGHAI)):
        ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已补发"}, s.handler)
        ticket = do(ticket, "return_review", {"review_decision": "accept"}, s.agent)
        ticket = do(ticket, "reply", {"reply": "已补发，请查收。", "reply_method": "phone"}, s.agent)
        engine.deliver_message(ticket.id, "satisfaction_received", {"satisfaction": "satisfied", "source": "sms"},
                               "survey-1", Actor.system("survey"))
    db.session.expire_all()
    state = diagram_state(db.session.get(type(ticket), ticket.id))
    assert state["fired"] == ["accept_overdue"]
    assert {"flow_accept_overdue_end", "accept_overdue_end"} <= set(state["completed"])
    assert {"satisfaction_message", "record_survey", "flow_survey_gateway", "archived"} <= set(state["completed"])
    assert "record_callback" not in state["completed"]


def test_a_version_published_before_the_layout_is_drawn_with_the_shipped_one(app):
    """Old versions have no BPMNDI; the elements are the same, so the shipped drawing fits them."""
    bare = {name: re.sub(r"\s*<bpmn:collaboration\b.*?</bpmn:collaboration>|\s*<bpmndi:BPMNDiagram\b.*?"
                         r"</bpmndi:BPMNDiagram>", "", text, flags=re.S) if name.endswith(".bpmn") else text
            for name, text in specs.bundled_files().items()}
    specs.publish(specs.TICKET_PROCESS, bare, note="无布局的旧版本")
    db.session.commit()
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    assert "BPMNDiagram" not in json.loads(db.session.get(ProcessVersion, 1).files_json)["ticket.bpmn"]
    state = diagram_state(ticket)
    assert "BPMNDiagram" in state["xml"] and state["active"] == ["dispatch", "handling"]


# --- who may read it -------------------------------------------------------------------------


def test_the_route_serves_staff_and_the_ticket_s_department_only(app, client, auth):
    s = staff()
    ticket = _dispatched_and_accepted(s)
    url = f"/tickets/{ticket.id}/diagram.json"
    auth.login("agent1")
    response = client.get(url)
    assert response.status_code == 200
    assert set(response.json) == {"xml", "subprocess_xml", "completed", "active", "fired"}
    assert "department_handle" in response.json["active"]
    auth.logout()
    auth.login("handler_cg")  # a handler of another department
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("handler_dy")
    assert client.get(url).status_code == 200
    assert client.get("/tickets/999999/diagram.json").status_code == 404
    assert app.view_functions["tickets.diagram"].object_scoped  # the permission matrix allows its 403


def test_the_partial_links_the_local_assets_and_the_route(app):
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    with app.test_request_context():
        html = render_template("tickets/_diagram.html", ticket=ticket)
    assert f'data-url="/tickets/{ticket.id}/diagram.json"' in html
    for asset in ("vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "vendor/bpmn-js/diagram-js.css",
                  "vendor/bpmn-js/bpmn-js.css", "css/diagram.css", "js/diagram.js"):
        assert f'"/static/{asset}"' in html
    assert "http" not in html  # no CDN
    for label in ("主流程", "派单办理", "已完成", "当前环节", "待办理", "时限触发"):
        assert label in html


# --- the layout in the BPMN files ------------------------------------------------------------


@pytest.mark.parametrize("name", ["ticket.bpmn", "ticket_handling.bpmn"])
def test_every_element_of_the_bundled_diagrams_is_drawn(name):
    root = ElementTree.fromstring((specs.BUNDLED_DIR / name).read_bytes())
    [process] = root.findall(f"{BPMN}process")
    [participant] = root.iter(f"{BPMN}participant")
    assert participant.get("processRef") == process.get("id")
    nodes = {el.get("id"): el for el in process if el.tag not in (f"{BPMN}laneSet", f"{BPMN}sequenceFlow")}
    flows = {el.get("id") for el in process.iter(f"{BPMN}sequenceFlow")}
    lanes = {el.get("id") for el in process.iter(f"{BPMN}lane")}
    [diagram] = root.findall(f"{BPMNDI}BPMNDiagram")
    shapes = {s.get("bpmnElement"): s.find(f"{DC}Bounds") for s in diagram.iter(f"{BPMNDI}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in diagram.iter(f"{BPMNDI}BPMNEdge")}
    assert set(nodes) <= set(shapes) and lanes <= set(shapes) and participant.get("id") in shapes
    assert flows == set(edges) and all(len(e) >= 2 for e in edges.values())
    assert all(shapes[lane].get("isHorizontal") != "false" for lane in lanes)

    def box(element_id):
        b = shapes[element_id]
        return [float(b.get(k)) for k in ("x", "y", "width", "height")]

    for node_id, el in nodes.items():  # boundary events sit on the bottom edge of their task
        if el.tag == f"{BPMN}boundaryEvent":
            x, y, w, h = box(node_id)
            hx, hy, hw, hh = box(el.get("attachedToRef"))
            assert y + h / 2 == hy + hh and hx <= x + w / 2 <= hx + hw, node_id


def test_the_bundled_layout_is_what_the_generator_writes():
    layout = runpy.run_path(str(ROOT / "scripts" / "bpmn_layout.py"), run_name="bpmn_layout")
    for grid in layout["LAYOUTS"]:
        text = (specs.BUNDLED_DIR / grid.file).read_text(encoding="utf-8")
        assert layout["with_layout"](grid, text) == text, f"run scripts/bpmn_layout.py ({grid.file})"
    specs.parse(specs.TICKET_PROCESS, specs.bundled_files())  # the engine still reads them


# --- in a real browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_bpmn_js_draws_the_loop_with_done_current_and_fired_markers(app, page, live_server):
    viewer = VENDOR / "bpmn-navigated-viewer.production.min.js"
    if not viewer.exists():
        pytest.fail("bpmn-js 未构建：运行 scripts/build_assets.sh", pytrace=False)
    s = staff()
    ticket = _accepted_after_the_deadline(s)

    page.goto(f"{live_server}/login")
    page.fill("#username", "agent1")
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("h1")
    # The page keeps the server's origin, so the diagram's fetch carries the session cookie.
    page.set_content(FIXTURE.read_text(encoding="utf-8").replace("__DIAGRAM_URL__", f"/tickets/{ticket.id}/diagram.json"))
    for css in (VENDOR / "diagram-js.css", VENDOR / "bpmn-js.css", STATIC / "css" / "diagram.css"):
        page.add_style_tag(path=str(css))
    # Scripts by their address on the platform: its Content-Security-Policy refuses inline ones.
    page.add_script_tag(url="/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    page.add_script_tag(url="/static/js/diagram.js")

    page.wait_for_selector('.bpmn-diagram[data-rendered="main"]')
    marked = page.eval_on_selector_all(".djs-element.done, .djs-element.active", """els => Object.fromEntries(
        els.map(e => [e.dataset.elementId, e.classList.contains('active') ? 'active' : 'done']))""")
    assert marked["intake"] == "done" and marked["handling"] == "active" and marked["flow_to_handling"] == "done"
    assert page.locator('.djs-element.pending[data-element-id="callback"]').count() == 1
    assert page.locator("svg text", has_text="坐席").count() >= 1  # the lanes are drawn
    screenshot(page, "diagram-ticket")

    page.click('[data-diagram-view="subprocess"]')
    page.wait_for_selector('.bpmn-diagram[data-rendered="subprocess"]')
    assert page.locator(".djs-element.done").count() >= 6
    assert page.locator('.djs-element.active[data-element-id="department_handle"]').count() == 1
    assert page.locator('.djs-element.done[data-element-id="department_accept"]').count() == 1
    assert page.locator('.djs-element.fired[data-element-id="accept_overdue"]').count() == 1
    screenshot(page, "diagram-ticket-handling")
