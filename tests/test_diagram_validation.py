"""Validation of a version before it is saved or published: the shipped diagrams pass, each rule catches a one-line
change to them with a Chinese message on the right element, foreign (Camunda) diagrams get element-level problems,
and hostile or broken input never raises."""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError, asdict
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from workflows import forms, specs, validation
from workflows.validation import FIELD_TYPES, PLATFORM_MESSAGES, WIDGETS, Problem, validate

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "bpmn"
TICKET, HANDLING = "ticket.bpmn", "ticket_handling.bpmn"
FORM_PROPERTY = '<spiffworkflow:property name="form" value="{}" />'
CAMUNDA_NS = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'


def shipped() -> dict[str, str]:
    return specs.bundled_files()


def changed(name: str, old: str, new: str) -> dict[str, str]:
    """The shipped files with exactly one occurrence of `old` in one file replaced."""
    files = shipped()
    assert files[name].count(old) == 1, f"{old!r} should occur once in {name}"
    files[name] = files[name].replace(old, new)
    return files


def inserted_in_ticket(xml: str) -> dict[str, str]:
    """The shipped files with elements added to the ticket process, just before it ends."""
    return changed(TICKET, "  </bpmn:process>", f"{xml}\n  </bpmn:process>")


def chinese(message: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]{4}", message) is not None


def only_on(problems: list[Problem], element_id: str | None) -> Problem:
    """The one problem on this element; fails showing every problem otherwise."""
    found = [p for p in problems if p.element_id == element_id]
    assert len(found) == 1, problems
    assert chinese(found[0].message), found[0].message
    return found[0]


def with_form(files: dict[str, str], name: str, schema: dict) -> dict[str, str]:
    files[f"forms/{name}.json"] = json.dumps(schema, ensure_ascii=False)
    return files


# ------------------------------------------------------------------------------------------------ the shipped version


def test_shipped_files_have_no_problems():
    assert validate(specs.TICKET_PROCESS, shipped()) == []


def test_the_handling_round_alone_is_valid_too():
    assert validate("ticket_handling", shipped()) == []


def test_problems_are_frozen_plain_data_for_the_editor():
    problem = Problem("ticket.bpmn", "intake", "用户任务“受理”没有指定表单")
    assert asdict(problem) == {"file": "ticket.bpmn", "element_id": "intake", "message": "用户任务“受理”没有指定表单"}
    with pytest.raises(FrozenInstanceError):
        problem.message = "x"


# -------------------------------------------------------------------------------------------- rule 1: XML, main process


def test_main_process_must_exist():
    problems = validate("complaints", shipped())
    assert len(problems) == 1
    assert problems[0].element_id is None
    assert problems[0].message.startswith("找不到主流程 complaints")
    assert "ticket" in problems[0].message  # lists what there is


def test_malformed_xml_is_a_problem_on_the_file():
    files = shipped()
    files[TICKET] = files[TICKET][:5000]  # cut off mid-file
    problems = validate("ticket", files)
    broken = [p for p in problems if p.file == TICKET]
    assert len(broken) == 1 and broken[0].element_id is None
    assert "不是格式正确的 XML" in broken[0].message and re.search(r"第 \d+ 行", broken[0].message)
    missing = next(p for p in problems if p.message.startswith("找不到主流程 ticket"))
    assert "无法读取的文件 ticket.bpmn" in missing.message  # points at the likely cause


def test_a_file_that_is_not_bpmn_is_refused():
    files = shipped()
    files["notes.bpmn"] = "<html><body>hello</body></html>"
    problems = validate("ticket", files)
    assert [p.file for p in problems] == ["notes.bpmn"]
    assert "不是 BPMN 流程图" in problems[0].message


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="ticket" name="&lol9;" isExecutable="true" />
</bpmn:definitions>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="ticket" name="&secret;" isExecutable="true" />
</bpmn:definitions>"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_dtds_and_entities_are_refused_without_expanding_them(text):
    files = shipped()
    files[TICKET] = text
    problems = validate("ticket", files)
    refused = [p for p in problems if p.file == TICKET]
    assert len(refused) == 1 and "DTD" in refused[0].message and chinese(refused[0].message)
    assert not any("lollol" in p.message or "root:" in p.message for p in problems)


@pytest.mark.parametrize("process_id, files", [
    ("ticket", None),
    ("ticket", ["ticket.bpmn"]),
    (None, {}),
    ("", {}),
    ("ticket", {}),
    ("ticket", {"ticket.bpmn": None}),
    ("ticket", {"ticket.bpmn": ""}),
    ("ticket", {"ticket.bpmn": "\ud800"}),
    ("ticket", {"ticket.bpmn": b"<bpmn:definitions/>"}),
    ("ticket", {1: "x", "forms/a.json": 5, "forms/b.json": "[" * 100_000}),
    ("ticket", {"t.bpmn": '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process/></definitions>'}),
    ("ticket", {"t.bpmn": '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                          '<process id="ticket"><userTask id="u"/></process></definitions>'}),
], ids=lambda value: repr(value)[:30])
def test_bad_input_gives_problems_not_exceptions(process_id, files):
    problems = validate(process_id, files)
    assert problems
    assert all(isinstance(p, Problem) and chinese(p.message) for p in problems)


def test_a_bug_in_a_check_becomes_a_problem_not_an_error_page(monkeypatch, caplog):
    def broken(*_args):
        raise KeyError("oops")

    monkeypatch.setattr(validation, "_check_lanes", broken)
    problems = validate("ticket", shipped())
    assert len(problems) == 1 and problems[0].element_id is None and "意外错误" in problems[0].message
    assert "validating process ticket failed" in caplog.text


# --------------------------------------------------------------------------------------------- rule 2: engine's parse


def test_call_activity_to_a_missing_process():
    files = changed(TICKET, 'calledElement="ticket_handling"', 'calledElement="ticket_handling_v2"')
    problem = only_on(validate("ticket", files), "handling")
    assert problem.file == TICKET
    assert "派单办理" in problem.message and "ticket_handling_v2" in problem.message


def test_engine_parse_errors_keep_the_element_id():
    """A task with two outgoing flows is refused by SpiffWorkflow itself: its ValidationException names the element."""
    files = inserted_in_ticket('<bpmn:sequenceFlow id="flow_extra" sourceRef="record_intake" targetRef="callback" />')
    problems = validate("ticket", files)
    problem = only_on(problems, "record_intake")
    assert problem.file == TICKET
    assert "计算初次处理时限" in problem.message and "网关" in problem.message
    assert "Multiple outgoing flows" in problem.message  # the engine's own words are kept for support


def test_duplicate_process_ids_across_files():
    files = shipped()
    files["copy.bpmn"] = files[HANDLING]
    problem = only_on(validate("ticket", files), "ticket_handling")
    assert problem.file == "copy.bpmn" and "重复" in problem.message and "派单办理" in problem.message


def test_a_process_not_marked_executable():
    files = changed(TICKET, 'name="工单闭环" isExecutable="true"', 'name="工单闭环" isExecutable="false"')
    problem = only_on(validate("ticket", files), "ticket")
    assert "工单闭环" in problem.message and "可执行" in problem.message


def test_a_flow_to_a_deleted_element():
    files = changed(TICKET, 'sourceRef="archive" targetRef="archived"', 'sourceRef="archive" targetRef="gone"')
    problem = only_on(validate("ticket", files), "flow_archive_end")
    assert "gone" in problem.message and "不存在" in problem.message


# ------------------------------------------------------------------------------------------------------ rule 3: lanes


def test_a_lane_must_name_a_role():
    files = changed(TICKET, '<bpmn:lane id="lane_team_lead" name="班长">', '<bpmn:lane id="lane_team_lead" name="无名泳道">')
    problem = only_on(validate("ticket", files), "lane_team_lead")
    assert problem.file == TICKET
    assert "泳道“无名泳道”没有对应的角色" in problem.message
    assert all(label in problem.message for label in ("坐席", "班长", "承办部门经办人"))


def test_a_user_task_outside_every_lane():
    files = changed(TICKET, "<bpmn:flowNodeRef>escalation</bpmn:flowNodeRef>", "")
    problem = only_on(validate("ticket", files), "escalation")
    assert "提级督办" in problem.message and "不在任何泳道" in problem.message


def test_a_process_without_lanes_gives_a_problem_per_user_task():
    files = shipped()
    files[HANDLING] = re.sub(r"<bpmn:laneSet .*?</bpmn:laneSet>", "", files[HANDLING], flags=re.S)
    problems = validate("ticket", files)
    user_tasks = {"dispatch", "department_accept", "department_handle", "extension_review", "return_review", "reply"}
    assert {p.element_id for p in problems} == user_tasks
    assert all("没有泳道" in p.message for p in problems)
    assert "派单" in next(p.message for p in problems if p.element_id == "dispatch")


# ------------------------------------------------------------------------------------------------------ rule 4: forms


def test_a_user_task_needs_a_form():
    files = changed(TICKET, FORM_PROPERTY.format("escalation"), "")
    problem = only_on(validate("ticket", files), "escalation")
    assert problem.file == TICKET and "提级督办" in problem.message and "form" in problem.message


def test_a_camunda_form_key_is_not_our_form():
    files = changed(TICKET, FORM_PROPERTY.format("escalation"), "")
    files[TICKET] = files[TICKET].replace('xmlns:xsi=', f'{CAMUNDA_NS} xmlns:xsi=', 1).replace(
        '<bpmn:userTask id="escalation" name="提级督办">',
        '<bpmn:userTask id="escalation" name="提级督办" camunda:formKey="embedded:app:forms/escalation.html">')
    problem = only_on(validate("ticket", files), "escalation")
    assert "Camunda" in problem.message and "embedded:app:forms/escalation.html" in problem.message
    assert "提级督办" in problem.message and "forms/" in problem.message


def test_the_form_file_must_exist():
    files = shipped()
    del files["forms/reply.json"]
    problem = only_on(validate("ticket", files), "reply")
    assert problem.file == HANDLING and "答复" in problem.message and "forms/reply.json" in problem.message


def test_a_form_must_be_json():
    files = shipped()
    files["forms/reply.json"] = files["forms/reply.json"].replace('"reply": {', '"reply" {', 1)
    problem = only_on(validate("ticket", files), "reply")
    assert problem.file == HANDLING and "forms/reply.json" in problem.message
    assert "不是有效的 JSON" in problem.message and "答复" in problem.message


@pytest.mark.parametrize("schema, words", [
    ({"type": "array", "items": {}}, "\"type\": \"object\""),
    ({"type": "object", "properties": {"note": {"type": "string", "minLength": "two"}}}, "JSON Schema"),
    ({"type": "object", "required": ["note", "reason"], "properties": {"note": {"type": "string"}}}, "reason"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "then": {"required": ["b"]}}, "必填项 b"),
], ids=["not-an-object", "invalid-schema", "undeclared-required", "undeclared-required-in-then"])
def test_a_form_must_be_a_usable_schema(schema, words):
    files = with_form(shipped(), "escalation", schema)
    problem = only_on(validate("ticket", files), "escalation")
    assert problem.file == TICKET and "forms/escalation.json" in problem.message
    assert "提级督办" in problem.message and words in problem.message


@pytest.mark.parametrize("field, words", [
    ({"title": "附件", "type": "array", "items": {"type": "string"}}, "类型 array"),
    ({"title": "金额", "type": "number"}, "number"),
    ({"title": "附件", "type": "object"}, "类型 object"),
    ({"title": "附件", "type": ["string", "integer"]}, "只能有一种类型"),
    ({"title": "附件", "type": "string", "x-widget": "file"}, "x-widget"),
    ({"title": "附件", "type": "string", "x-widget": "department"}, "integer"),
    ({"title": "附件", "type": "boolean", "enum": [True]}, "enum"),
    ({"title": "附件", "type": "string", "enum": [1, 2]}, "enum"),
    ({"title": "附件", "type": "string", "x-when": {"missing_field": "x"}}, "x-when"),
], ids=["array", "number", "object", "two-types", "unknown-widget", "department-on-text", "boolean-enum",
        "enum-of-wrong-type", "x-when-unknown-field"])
def test_every_field_must_be_renderable(field, words):
    schema = json.loads(shipped()["forms/escalation.json"])
    schema["properties"]["attachment"] = field
    files = with_form(shipped(), "escalation", schema)
    problem = only_on(validate("ticket", files), "escalation")
    assert problem.file == TICKET and "forms/escalation.json" in problem.message
    assert "提级督办" in problem.message and "attachment" in problem.message and words in problem.message
    assert field["title"] in problem.message


def test_a_broken_form_nobody_uses_still_blocks_publishing():
    files = shipped()
    files["forms/old.json"] = "{not json"
    problem = only_on(validate("ticket", files), None)
    assert problem.file == "forms/old.json" and "不是有效的 JSON" in problem.message


def test_what_the_validator_accepts_the_task_page_can_show_and_submit():
    """Keeps FIELD_TYPES / WIDGETS in step with app/tickets/form_fields.py: each accepted kind of field gets a widget
    the template draws, and a typed-in value comes back as a value the schema accepts."""
    from app.tickets.form_fields import coerce, fields

    schema = {"type": "object", "properties": {
        "text": {"type": "string"}, "long": {"type": "string", "x-widget": "textarea"},
        "plain": {"type": "string", "x-widget": "text"}, "when": {"type": "string", "format": "date-time"},
        "choice": {"type": "string", "enum": ["a", "b"], "x-labels": {"a": "甲"}},
        "many": {"type": "string", "enum": ["a", "b", "c", "d", "e"]}, "count": {"type": "integer"},
        "person": {"type": ["integer", "null"]}, "rank": {"type": "integer", "enum": [1, 2]}, "ok": {"type": "boolean"},
    }}
    files = with_form(shipped(), "escalation", schema)
    assert validate("ticket", files) == []
    drawn = {"text", "textarea", "radio", "select", "boolean", "number"}  # templates/_field.html
    assert {f.widget for f in fields(schema, {}, {})} <= drawn
    posted = MultiDict({"text": "x", "long": "y", "plain": "z", "when": "2025-01-01T08:00:00+08:00", "choice": "a",
                        "many": "e", "count": "3", "person": "7", "rank": "2", "ok": "true"})
    assert forms.validate(schema, coerce(schema, posted))
    assert set(FIELD_TYPES) == {"string", "integer", "boolean"} and set(WIDGETS) == {"text", "textarea", "department"}


# ----------------------------------------------------------------------------------------------- rule 5: expressions


def test_a_broken_condition():
    files = changed(TICKET, "answered_on_spot</bpmn:conditionExpression>", "answered_on_spot ==</bpmn:conditionExpression>")
    problem = only_on(validate("ticket", files), "flow_on_spot")
    assert problem.file == TICKET
    assert "连线“当场答复”的条件有误" in problem.message and "语法错误" in problem.message


def test_a_juel_condition():
    files = changed(TICKET, "answered_on_spot</bpmn:conditionExpression>", "#{answered_on_spot}</bpmn:conditionExpression>")
    problem = only_on(validate("ticket", files), "flow_on_spot")
    assert "当场答复" in problem.message
    assert "条件使用了 Camunda 的 JUEL 表达式 #{answered_on_spot}" in problem.message
    assert "answered_on_spot == True" in problem.message


def test_a_script_with_an_import_is_refused_on_the_script_task():
    files = changed(TICKET, "<bpmn:script>satisfaction = survey['satisfaction']",
                    "<bpmn:script>import os\nsatisfaction = survey['satisfaction']")
    problem = only_on(validate("ticket", files), "record_survey")
    assert "记录满意度评价" in problem.message and "import" in problem.message


def test_a_script_in_another_language():
    files = changed(TICKET, '<bpmn:scriptTask id="archive" name="归档">',
                    '<bpmn:scriptTask id="archive" name="归档" scriptFormat="groovy">')
    problem = only_on(validate("ticket", files), "archive")
    assert "归档" in problem.message and "groovy" in problem.message and "Python" in problem.message


def test_an_empty_script():
    files = changed(TICKET, "<bpmn:script>archived = True</bpmn:script>", "<bpmn:script> </bpmn:script>")
    problem = only_on(validate("ticket", files), "archive")
    assert "归档" in problem.message and "没有填写脚本" in problem.message


@pytest.mark.parametrize("expression, words", [
    ("${dispatchDue}", "JUEL"),
    ("PT5M", "'PT5M'"),
    ("dispatch_due_at +", "语法错误"),
    ("", "没有填写计时器时间"),
], ids=["juel", "bare-iso-duration", "syntax", "empty"])
def test_timer_expressions(expression, words):
    files = changed(HANDLING, '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">dispatch_due_at</bpmn:timeDate>',
                    f'<bpmn:timeDate xsi:type="bpmn:tFormalExpression">{expression}</bpmn:timeDate>')
    problem = only_on(validate("ticket", files), "dispatch_overdue")
    assert problem.file == HANDLING and "初次处理超时" in problem.message and words in problem.message


# -------------------------------------------------------------------------------------------------- rule 6: messages


def test_platform_messages_are_documented():
    assert set(PLATFORM_MESSAGES) == {"satisfaction_received"}


def test_the_satisfaction_message_must_still_be_caught():
    files = shipped()
    files[TICKET] = re.sub(r'<bpmn:boundaryEvent id="satisfaction_message".*?</bpmn:boundaryEvent>\s*'
                           r'<bpmn:sequenceFlow id="flow_message_survey"[^>]*/>', "", files[TICKET], flags=re.S)
    problem = only_on(validate("ticket", files), None)
    assert problem.file == TICKET
    assert problem.message.startswith("平台发送的消息 satisfaction_received 在流程中没有接收事件")
    # only the ticket process receives platform messages
    assert validate("ticket_handling", files) == []


def test_the_satisfaction_message_must_be_defined_under_its_name():
    files = changed(TICKET, 'name="satisfaction_received" />', 'name="survey_done" />')
    problem = only_on(validate("ticket", files), None)
    assert "没有定义消息 satisfaction_received" in problem.message


def test_the_tasks_the_platform_refers_to_keep_their_ids():
    """Renaming 签收 everywhere still parses and runs in the engine, but the department inbox's accept
    deadline and the platform's own code look for department_accept: the manager is told to keep the id."""
    files = shipped()
    # every reference to the element (flows, lane, diagram), but not the form it names
    files["ticket_handling.bpmn"] = re.sub(r'(?<!value=")\bdepartment_accept\b', "accept_step",
                                           files["ticket_handling.bpmn"])
    problem = only_on(validate("ticket", files), None)
    assert "department_accept" in problem.message and "签收" in problem.message
    assert validate("ticket_handling", files) == []  # only the ticket loop as a whole is held to it


# ------------------------------------------------------------------------------------------------------ rule 7: loops


SCRIPT_LOOP = """
    <bpmn:scriptTask id="loop_a" name="统计一"><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="flow_loop_1" sourceRef="loop_a" targetRef="loop_gateway" />
    <bpmn:exclusiveGateway id="loop_gateway" name="还要统计吗？" default="flow_loop_done" />
    <bpmn:sequenceFlow id="flow_loop_again" sourceRef="loop_gateway" targetRef="loop_b">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">n &lt; 3</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_loop_done" sourceRef="loop_gateway" targetRef="archived" />
    <bpmn:scriptTask id="loop_b" name="统计二"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="flow_loop_back" sourceRef="loop_b" targetRef="{back}" />"""

WAITING_STEP = """
    <bpmn:intermediateCatchEvent id="loop_wait" name="等一小时">
      <bpmn:timerEventDefinition id="loop_wait_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'PT1H'</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="flow_wait_back" sourceRef="loop_wait" targetRef="loop_a" />"""

COUNTER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="counter_definitions">
  <bpmn:process id="counter" name="计数" isExecutable="true">
    <bpmn:startEvent id="counter_start" />
    <bpmn:sequenceFlow id="counter_flow_1" sourceRef="counter_start" targetRef="counter_count" />
    <bpmn:scriptTask id="counter_count" name="加一"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="counter_flow_2" sourceRef="counter_count" targetRef="counter_end" />
    <bpmn:endEvent id="counter_end" />
  </bpmn:process>
</bpmn:definitions>"""


def _archive_into(target: str, extra: str) -> dict[str, str]:
    files = changed(TICKET, 'sourceRef="archive" targetRef="archived"', f'sourceRef="archive" targetRef="{target}"')
    files[TICKET] = files[TICKET].replace("  </bpmn:process>", f"{extra}\n  </bpmn:process>", 1)
    return files


def test_a_loop_of_scripts_without_a_wait_state():
    problem = only_on(validate("ticket", _archive_into("loop_a", SCRIPT_LOOP.format(back="loop_a"))), "loop_gateway")
    assert problem.file == TICKET
    assert all(name in problem.message for name in ("还要统计吗？", "统计一", "统计二"))
    assert "循环" in problem.message and "用户任务" in problem.message


def test_a_loop_that_waits_for_a_timer_is_fine():
    files = _archive_into("loop_a", SCRIPT_LOOP.format(back="loop_wait") + WAITING_STEP)
    assert validate("ticket", files) == []


def test_a_loop_through_a_call_activity_that_never_waits():
    loop = """
    <bpmn:callActivity id="count_call" name="调用计数" calledElement="counter" />
    <bpmn:sequenceFlow id="flow_call_gateway" sourceRef="count_call" targetRef="count_gateway" />
    <bpmn:exclusiveGateway id="count_gateway" name="够了吗？" default="flow_count_done" />
    <bpmn:sequenceFlow id="flow_count_again" sourceRef="count_gateway" targetRef="count_call">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">n &lt; 3</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_count_done" sourceRef="count_gateway" targetRef="archived" />"""
    files = _archive_into("count_call", loop)
    files["counter.bpmn"] = COUNTER
    problem = only_on(validate("ticket", files), "count_gateway")
    assert "调用计数" in problem.message and "够了吗？" in problem.message


def test_a_script_task_that_loops_onto_itself():
    files = changed(TICKET, '<bpmn:sequenceFlow id="flow_archive_end" sourceRef="archive" targetRef="archived" />',
                    '<bpmn:sequenceFlow id="flow_archive_end" sourceRef="archive" targetRef="archive" />')
    problem = only_on(validate("ticket", files), "archive")
    assert "归档" in problem.message and "循环" in problem.message


# ---------------------------------------------------------------------------------------- rule 8: gateways, services


def test_a_gateway_flow_without_condition_or_default():
    files = changed(TICKET, '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">redispatch_count &gt;= '
                            'escalate_after_redispatches</bpmn:conditionExpression>', "")
    problem = only_on(validate("ticket", files), "flow_escalate")  # the engine's own complaint is not repeated
    assert "连线“提级督办”" in problem.message and "第三次重复派单？" in problem.message and "默认路径" in problem.message


def test_a_gateway_default_that_is_not_one_of_its_flows():
    files = changed(TICKET, 'default="flow_redispatch"', 'default="flow_archive_end"')
    problems = validate("ticket", files)
    problem = only_on(problems, "escalation_gateway")
    assert "第三次重复派单？" in problem.message and "flow_archive_end" in problem.message


def test_a_service_task_is_not_supported():
    files = changed(TICKET, '<bpmn:scriptTask id="archive" name="归档">\n      <bpmn:script>archived = True</bpmn:script>\n'
                            '    </bpmn:scriptTask>', '<bpmn:serviceTask id="archive" name="归档" />')
    problem = only_on(validate("ticket", files), "archive")
    assert "服务任务“归档”" in problem.message and "脚本任务" in problem.message


# ------------------------------------------------------------------------------------------ Camunda Modeler fixtures


def _fixture(name: str) -> dict[str, str]:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return {name: path.read_text(encoding="utf-8")}


def test_camunda_invoice_approval():
    problems = validate("camundaFormsQuickstart", _fixture("camunda-invoice-approval.bpmn"))
    assert all(p.file == "camunda-invoice-approval.bpmn" and chinese(p.message) for p in problems)
    on_task = [p.message for p in problems if p.element_id == "UserTask_1"]
    assert any("没有泳道" in m and "Approve Invoice" in m for m in on_task)
    assert any("Camunda 的表单" in m and "camunda-forms:app:task-form.form" in m for m in on_task)
    assert "开始表单" in only_on(problems, "StartEvent_1").message


def test_camunda_job_announcement():
    problems = validate("camunda-testing-job-announcement", _fixture("camunda-job-announcement.bpmn"))
    by_element = {p.element_id: p.message for p in problems}
    assert "条件使用了 Camunda 的 JUEL 表达式 #{approved}" in by_element["Flow_1gfi885"]
    assert "#{!approved}" in by_element["Flow_0yjunvn"] and "not approved" in by_element["Flow_0yjunvn"]
    assert "服务任务“Send confirmation”" in by_element["mail"]
    assert "camunda-testing-job-announcement-publication" in by_element["publication"]
    for task in ("review", "edit", "correct", "publish"):
        assert "没有指定表单" in by_element[task]
    for lane, name in (("Lane_105il6x", "Automated"), ("Lane_0sb6j56", "Management"), ("Lane_1klekz5", "HR")):
        assert f"泳道“{name}”没有对应的角色" in by_element[lane]
    assert all(p.element_id for p in problems) and all(chinese(p.message) for p in problems)
