"""Comparing two versions of the diagram set (流程版本对比): semantic changes count, layout does not.
Each test edits the shipped bpmn/ files as text, the way a modeler would change them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workflows import specs
from workflows.bpmn_diff import DiffInputError, diff, summary

CAMUNDA_JOB = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "bpmn" / "camunda-job-announcement.bpmn"

NEW_TASK = """    <bpmn:userTask id="triage" name="分诊">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="triage" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_triage_handling" sourceRef="triage" targetRef="handling" />
"""


@pytest.fixture
def files() -> dict[str, str]:
    return specs.bundled_files()


def edited(files: dict[str, str], file: str, *replacements: tuple[str, str]) -> dict[str, str]:
    """A copy of the set with string edits in one file; each edit must hit exactly once."""
    text = files[file]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return {**files, file: text}


def by_id(result) -> dict[str, object]:
    return {change.element_id: change for change in result.elements}


def test_identical_sets_have_no_changes(files):
    result = diff(files, dict(files))
    assert not result.has_changes
    assert (result.elements, result.forms, result.files_added, result.files_removed) == ([], [], [], [])
    assert summary(result) == "没有内容变化"


def test_moving_shapes_and_edges_is_not_a_change(files):
    moved = edited(files, "ticket.bpmn",
                   ('<dc:Bounds x="250" y="120" width="100" height="80" />',
                    '<dc:Bounds x="270" y="140" width="120" height="90" />'),
                   ('<di:waypoint x="350" y="160" />', '<di:waypoint x="390" y="175" />'),
                   ('<dc:Bounds x="130" y="390" width="1323" height="120" />',
                    '<dc:Bounds x="130" y="400" width="1400" height="150" />'))
    assert moved["ticket.bpmn"] != files["ticket.bpmn"]
    result = diff(files, moved)
    assert not result.has_changes


def test_reformatting_and_comments_are_not_a_change(files):
    text = files["ticket.bpmn"]
    reformatted = re.sub(r"\n\s*\n", "\n", text).replace("<!-- Diagram layout", "<!-- 布局说明 Diagram layout")
    assert reformatted != text
    assert not diff(files, {**files, "ticket.bpmn": reformatted}).has_changes


def test_renaming_a_task_changes_only_that_task(files):
    result = diff(files, edited(files, "ticket.bpmn", ('name="回访"', 'name="回访（电话）"')))
    [change] = result.elements
    assert (change.file, change.element_id, change.kind, change.type) == ("ticket.bpmn", "callback", "changed", "userTask")
    assert change.name == "回访（电话）"
    assert change.details == ["名称：回访 → 回访（电话）"]
    assert summary(result) == "新增 0 个元素，修改 1 个，删除 0 个"


def test_inserting_a_task_and_redirecting_a_flow(files):
    new = edited(files, "ticket.bpmn",
                 ('<bpmn:sequenceFlow id="flow_to_handling" name="派单" sourceRef="on_spot_gateway" targetRef="handling" />',
                  '<bpmn:sequenceFlow id="flow_to_handling" name="派单" sourceRef="on_spot_gateway" targetRef="triage" />\n'
                  + NEW_TASK),
                 ("<bpmn:flowNodeRef>handling</bpmn:flowNodeRef>",
                  "<bpmn:flowNodeRef>handling</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>triage</bpmn:flowNodeRef>"))
    result = diff(files, new)
    changes = by_id(result)
    # The lane gained a node, but a lane's contents are the nodes' "所在泳道", so the lane is unchanged.
    assert set(changes) == {"triage", "flow_triage_handling", "flow_to_handling"}
    task, added_flow, redirected = changes["triage"], changes["flow_triage_handling"], changes["flow_to_handling"]
    assert (task.kind, task.type, task.name) == ("added", "userTask", "分诊")
    assert "所在泳道：坐席" in task.details and "表单：triage" in task.details
    assert (added_flow.kind, added_flow.type) == ("added", "sequenceFlow")
    assert added_flow.details == ["连线：分诊 → 派单办理"]
    assert (redirected.kind, redirected.type) == ("changed", "sequenceFlow")
    assert redirected.details == ["连线目标：派单办理 → 分诊"]
    # Ordered by file, then added before changed, then by name / id.
    assert [c.kind for c in result.elements] == ["added", "added", "changed"]
    assert summary(result) == "新增 2 个元素，修改 1 个，删除 0 个"


def test_deleting_an_element(files):
    block = re.search(r'\n    <bpmn:userTask id="escalation".*?</bpmn:userTask>', files["ticket.bpmn"], re.S).group(0)
    result = diff(files, edited(files, "ticket.bpmn", (block, "")))
    [change] = result.elements
    assert (change.element_id, change.kind, change.type, change.name) == ("escalation", "removed", "userTask", "提级督办")
    assert "所在泳道：班长" in change.details


def test_changing_a_condition(files):
    result = diff(files, edited(files, "ticket.bpmn", ("redispatch_count &gt;= escalate_after_redispatches",
                                                       "redispatch_count &gt;= 2")))
    [change] = result.elements
    assert (change.element_id, change.kind, change.name) == ("flow_escalate", "changed", "提级督办")
    assert change.details == ["条件：redispatch_count >= escalate_after_redispatches → redispatch_count >= 2"]


def test_renaming_a_target_does_not_change_the_flows_into_it(files):
    # Flows refer to tasks by id; details show names, but the comparison must not.
    result = diff(files, edited(files, "ticket.bpmn", ('name="派单办理"', 'name="派单与办理"')))
    assert [c.element_id for c in result.elements] == ["handling"]


def test_moving_a_node_to_another_lane(files):
    new = edited(files, "ticket.bpmn", ("        <bpmn:flowNodeRef>escalation</bpmn:flowNodeRef>\n", ""),
                 ("<bpmn:flowNodeRef>archive</bpmn:flowNodeRef>",
                  "<bpmn:flowNodeRef>archive</bpmn:flowNodeRef><bpmn:flowNodeRef>escalation</bpmn:flowNodeRef>"))
    [change] = diff(files, new).elements
    assert (change.element_id, change.details) == ("escalation", ["所在泳道：班长 → 坐席"])


def test_extension_properties_scripts_and_timers(files):
    new = edited(files, "ticket_handling.bpmn",
                 ('name="form" value="reply" />', 'name="form" value="reply_v2" />'),
                 ("dispatch_due_at = add_working_days(now(), first_handling_days)", "dispatch_due_at = now()"),
                 (">handle_major_at</bpmn:timeDate>", ">handle_due_at</bpmn:timeDate>"))
    changes = by_id(diff(files, new))
    assert changes["reply"].details == ["表单：reply → reply_v2"]
    assert changes["plan_dispatch"].details == ["脚本：已修改"]  # multi-line values are not quoted
    assert changes["major_event"].details == ["定时日期：handle_major_at → handle_due_at"]
    assert {c.file for c in changes.values()} == {"ticket_handling.bpmn"}


def test_changing_an_element_type(files):
    new = edited(files, "ticket.bpmn",
                 ('<bpmn:scriptTask id="archive" name="归档">', '<bpmn:task id="archive" name="归档">'),
                 ("<bpmn:script>archived = True</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:task>"))
    [change] = diff(files, new).elements
    assert change.type == "task"
    assert change.details == ["类型：scriptTask → task", "脚本：archived = True → （无）"]


def test_a_new_diagram_file_adds_its_elements(files):
    old = {name: text for name, text in files.items() if name != "ticket_handling.bpmn"}
    result = diff(old, files)
    assert result.files_added == ["ticket_handling.bpmn"]
    assert {c.kind for c in result.elements} == {"added"}
    assert {c.file for c in result.elements} == {"ticket_handling.bpmn"}
    assert "文件新增 1 个" in summary(result)
    assert diff(files, old).files_removed == ["ticket_handling.bpmn"]


def test_adding_a_form(files):
    form = {"title": "审批", "type": "object", "properties": {"approved": {"title": "同意", "type": "boolean"}}}
    new = {**files, "forms/approval.json": json.dumps(form, ensure_ascii=False)}
    result = diff(files, new)
    assert result.elements == [] and result.files_added == ["forms/approval.json"]
    [change] = result.forms
    assert (change.file, change.name, change.title, change.kind) == ("forms/approval.json", "approval", "审批", "added")
    assert change.details == ["字段：同意（approved）"]
    assert summary(result) == "新增 0 个元素，修改 0 个，删除 0 个；表单新增 1 个"


def test_changing_a_form_field(files):
    schema = json.loads(files["forms/intake.json"])
    schema["properties"]["channel"]["title"] = "来源渠道"
    schema["properties"]["channel"]["x-labels"]["web"] = "网站"
    schema["required"].remove("urgency")
    schema["properties"]["caller_id"] = {"title": "证件号", "type": "string"}
    new = {**files, "forms/intake.json": json.dumps(schema, ensure_ascii=False, indent=4)}
    [change] = diff(files, new).forms
    assert (change.name, change.title, change.kind) == ("intake", "受理", "changed")
    assert "字段 channel 标题：渠道 → 来源渠道" in change.details
    assert "字段 channel 选项 web 的名称：网页 → 网站" in change.details
    assert "字段 urgency：改为选填" in change.details
    assert "新增字段：证件号（caller_id）" in change.details


def test_reindenting_a_form_is_not_a_change(files):
    reindented = json.dumps(json.loads(files["forms/intake.json"]), ensure_ascii=False, indent=1)
    assert not diff(files, {**files, "forms/intake.json": reindented}).has_changes


def test_removing_a_form(files):
    old = {**files, "forms/approval.json": '{"title": "审批", "properties": {}}'}
    result = diff(old, files)
    assert [(c.name, c.kind) for c in result.forms] == [("approval", "removed")]
    assert summary(result) == "新增 0 个元素，修改 0 个，删除 0 个；表单删除 1 个"


@pytest.mark.parametrize("broken", ['<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">',
                                    "not xml at all", "<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_malformed_diagram_raises_a_clear_error(files, broken):
    with pytest.raises(DiffInputError, match="新版本的 ticket.bpmn") as caught:
        diff(files, {**files, "ticket.bpmn": broken})
    assert isinstance(caught.value, ValueError)


def test_malformed_form_raises_a_clear_error(files):
    with pytest.raises(DiffInputError, match="旧版本的表单 forms/intake.json 不是有效的 JSON"):
        diff({**files, "forms/intake.json": "{"}, files)


def test_camunda_incoming_outgoing_are_derived_not_compared():
    if not CAMUNDA_JOB.exists():
        pytest.skip("shared fixtures not present")
    text = CAMUNDA_JOB.read_text(encoding="utf-8")
    without = re.sub(r"\s*<bpmn:(incoming|outgoing)>[^<]*</bpmn:\1>", "", text).replace(' name=""', "")
    assert without != text
    assert not diff({"job.bpmn": text}, {"job.bpmn": without}).has_changes
    changed = text.replace('<camunda:in source="twitter" target="twitter" />', '<camunda:in source="twitter" target="x" />')
    [change] = diff({"job.bpmn": text}, {"job.bpmn": changed}).elements
    assert (change.element_id, change.type) == ("publication", "callActivity")
    assert change.details == ["设置 extensionElements/in："
                              "新增 source=twitter, target=x，删除 source=twitter, target=twitter"]


def test_a_default_attribute_dropped_by_the_modeler_is_not_a_change():
    """bpmn-js writes no cancelActivity="true": that is the BPMN default, not an edit."""
    old = specs.bundled_files()
    new = dict(old)
    new["ticket.bpmn"] = new["ticket.bpmn"].replace(' cancelActivity="true"', "")
    assert new["ticket.bpmn"] != old["ticket.bpmn"]
    assert diff(old, new).elements == []
