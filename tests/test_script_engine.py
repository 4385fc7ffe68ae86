"""The sandboxed BPMN script engine: ordinary scripts work, escapes are refused in Chinese, runaway scripts are stopped."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from workflows.script_engine import (
    RestrictedEnvironment,
    ScriptRefused,
    ScriptTimeout,
    check_script,
    make_script_engine,
)


def add_working_days(start: datetime, days: int) -> datetime:
    """A stand-in for the platform's working-day helper: skips Saturdays and Sundays."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment({"add_working_days": add_working_days})


def test_ordinary_script_assigns_plain_data(env):
    """A typical script reads task data, builds values and leaves only plain data behind in the task."""
    context = {"base": 2, "accepted_at": datetime(2024, 3, 8, 9, 0), "tags": ["a"]}
    env.execute(
        "total = base * 3 + 1\n"
        "count = 0\n"
        "count += 5\n"
        "info = {'level': 'high'}\n"
        "info['score'] = total\n"
        "items = []\n"
        "items.append(base)\n"
        "squares = [i * i for i in range(4)]\n"
        "lookup = {k: v for k, v in zip(['x', 'y'], [1, 2])}\n"
        "for index, tag in enumerate(tags):\n"
        "    count += index\n"
        "def double(v):\n"
        "    return v * 2\n"
        "doubled = double(total)\n"
        "due = add_working_days(accepted_at, 1)\n"
        "reminder = accepted_at + timedelta(hours=4)\n"
        "weekday = due.weekday()\n",
        context,
    )
    assert context == {
        "base": 2, "accepted_at": datetime(2024, 3, 8, 9, 0), "tags": ["a"], "total": 7, "count": 5,
        "info": {"level": "high", "score": 7}, "items": [2], "squares": [0, 1, 4, 9], "lookup": {"x": 1, "y": 2},
        "index": 0, "tag": "a", "doubled": 14, "due": datetime(2024, 3, 11, 9, 0),
        "reminder": datetime(2024, 3, 8, 13, 0), "weekday": 0,
    }


def test_gateway_condition_is_evaluated(env):
    """A gateway condition over task data evaluates to a plain boolean and does not touch the task data."""
    condition = "category == '投诉' and redispatch_count >= 3"
    context = {"category": "投诉", "redispatch_count": 3}
    assert env.evaluate(condition, context) is True
    assert env.evaluate(condition, {"category": "咨询", "redispatch_count": 5}) is False
    assert context == {"category": "投诉", "redispatch_count": 3}


def test_task_data_may_not_overwrite_a_helper(env):
    """Task data named like a helper would hide it, so the script fails fast with Spiff's ValueError."""
    with pytest.raises(ValueError, match="add_working_days"):
        env.execute("x = 1", {"add_working_days": 3})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import os", "第 1 行：脚本不允许使用 import 语句"),
        ("from os import path", "第 1 行：脚本不允许使用 import 语句"),
        ("__import__('os')", "第 1 行：脚本不允许使用以下划线开头的名称 __import__"),
        ("open('/etc/passwd')", "第 1 行：脚本不允许使用 open"),
        ("exec('1')", "第 1 行：脚本不允许使用 exec"),
        ("eval('1')", "第 1 行：脚本不允许使用 eval"),
        ("x = 1\nsecret = x._private", "第 2 行：脚本不允许访问以下划线开头的属性 _private"),
        ("class Sneaky:\n    pass", "第 1 行：脚本不允许定义 class"),
    ],
)
def test_forbidden_constructs_are_refused_before_running(env, source, message):
    """Imports, dangerous builtins, exec/eval, underscore attributes and classes are refused at compile time."""
    with pytest.raises(ScriptRefused) as caught:
        env.execute(source, {})
    assert str(caught.value) == message
    assert caught.value.details and caught.value.details[0].startswith("Line ")


def test_subclasses_escape_is_refused(env):
    """The classic builtins escape through ().__class__.__base__.__subclasses__() names the dunder it needs."""
    with pytest.raises(ScriptRefused, match="脚本不允许访问以下划线开头的属性 __class__") as caught:
        env.execute("().__class__.__base__.__subclasses__()", {})
    assert len(caught.value.details) == 3


def test_dynamic_getattr_of_dunder_is_refused_at_run_time(env):
    """getattr() with a computed name is checked when it runs, and ordinary names still resolve."""
    with pytest.raises(ScriptRefused, match="脚本不允许访问以下划线开头的属性 __class__"):
        env.execute("name = '__cl' + 'ass__'\nklass = getattr(x, name)", {"x": 1})
    context = {"x": "abc"}
    env.execute("upper = getattr(x, 'upper')()\nmissing = getattr(x, 'nope', 'default')", context)
    assert context["upper"] == "ABC" and context["missing"] == "default"


def test_missing_builtins_are_plain_name_errors(env):
    """Builtins the sandbox does not offer (type, object) are simply undefined names."""
    with pytest.raises(NameError, match="type"):
        env.execute("klass = type(1)", {})


def test_refused_expression_in_evaluate(env):
    """Gateway conditions go through the same policy as scripts."""
    with pytest.raises(ScriptRefused, match="脚本不允许使用以下划线开头的名称 __import__"):
        env.evaluate("__import__('os').system('id')", {})


def test_infinite_loop_is_stopped(env):
    """`while True: pass` is stopped with ScriptTimeout and the previous trace function is back afterwards."""
    before = sys.gettrace()
    started = time.monotonic()
    with pytest.raises(ScriptTimeout, match="脚本运行超过 1 秒，已被终止"):
        env.execute("while True: pass", {})
    assert time.monotonic() - started < 3
    assert sys.gettrace() is before


def test_infinite_expression_is_stopped():
    """Expressions are time-limited too: an endless generator in a condition stops with the configured limit."""
    quick = RestrictedEnvironment(time_limit=0.2)
    with pytest.raises(ScriptTimeout, match="脚本运行超过 0.2 秒"):
        quick.evaluate("any(x < 0 for x in range(10 ** 12))", {})


def test_catching_the_timeout_does_not_help(env):
    """A script that catches the timeout, or hides its loop in finally, is stopped all the same."""
    for source in (
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass\n",
        "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass\n",
    ):
        with pytest.raises(ScriptTimeout):
            env.execute(source, {})


def test_recursion_bomb_is_contained(env):
    """Endless recursion ends in RecursionError, and swallowing it does not switch the time limit off."""
    with pytest.raises(RecursionError):
        env.execute("def f():\n    return f()\nf()", {})
    with pytest.raises(ScriptTimeout):
        env.execute("def f():\n    return f()\ntry:\n    f()\nexcept Exception:\n    pass\nwhile True:\n    pass", {})


def test_trace_function_is_restored_after_timeout(env):
    """A tracer installed by someone else (a debugger, coverage) is put back after the script is stopped."""
    def outer_tracer(frame, event, arg):
        return None

    previous = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        with pytest.raises(ScriptTimeout):
            env.execute("while True:\n    pass", {})
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(previous)


def test_check_script_reports_problems_without_running():
    """check_script lists Chinese problems for diagram validation and is empty for a good script or condition."""
    assert check_script("import os\nx = 1\ny = x.__class__") == [
        "第 1 行：脚本不允许使用 import 语句",
        "第 3 行：脚本不允许访问以下划线开头的属性 __class__",
    ]
    assert check_script("total = sum([1, 2])\nlevel = 'high' if total > 2 else 'low'") == []
    assert check_script("category == '投诉'", mode="eval") == []
    assert check_script("x = ", mode="exec")[0].startswith("第 1 行：脚本语法错误")


BPMN = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="hotline" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="classify" />
    <bpmn:scriptTask id="classify"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="classify" targetRef="gateway" />
    <bpmn:exclusiveGateway id="gateway" default="normal_flow"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>escalate_flow</bpmn:outgoing><bpmn:outgoing>normal_flow</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="escalate_flow" sourceRef="gateway" targetRef="escalate">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="normal_flow" sourceRef="gateway" targetRef="normal" />
    <bpmn:scriptTask id="escalate"><bpmn:incoming>escalate_flow</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>route = 'escalated'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="normal"><bpmn:incoming>normal_flow</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = 'normal'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="escalate" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="normal" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

GOOD_SCRIPT = "category = '投诉'\nredispatch_count = 0\nfor attempt in range(3):\n    redispatch_count += 1"
CONDITION = "category == '投诉' and redispatch_count >= 3"


def run_workflow(script: str, condition: str = CONDITION) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=escape(script), condition=escape(condition)).encode("utf-8"))
    workflow = BpmnWorkflow(parser.get_spec("hotline"), parser.get_subprocess_specs("hotline"),
                            script_engine=make_script_engine({"add_working_days": add_working_days}))
    workflow.do_engine_steps()
    return workflow


def test_bpmn_workflow_runs_through_the_sandbox():
    """A real BPMN process runs its script task and gateway condition through the sandbox and routes on the result."""
    workflow = run_workflow(GOOD_SCRIPT)
    assert workflow.is_completed()
    assert workflow.last_task.data == {"category": "投诉", "redispatch_count": 3, "attempt": 2, "route": "escalated"}


def test_bpmn_workflow_with_import_fails_with_chinese_message():
    """A script task that imports os fails the workflow, and the Spiff error still carries the Chinese reason."""
    with pytest.raises(WorkflowTaskException, match="脚本不允许使用 import 语句"):
        run_workflow("import os\ncategory = os.getcwd()")


def test_bpmn_script_timeout_reports_the_script_line():
    """A runaway script task fails with the Chinese timeout message and Spiff still points into the loop
    (the `while` line or its body, whichever was executing when time ran out)."""
    with pytest.raises(WorkflowTaskException, match="脚本运行超过 1 秒，已被终止") as caught:
        run_workflow("category = '投诉'\nwhile True:\n    pass")
    assert caught.value.line_number in (2, 3)


def test_bpmn_condition_refusal_and_timeout_keep_their_message():
    """Spiff's 'Error evaluating expression' wrapper keeps the Chinese reason for refused or runaway conditions."""
    with pytest.raises(WorkflowTaskException, match="脚本不允许访问以下划线开头的属性 __class__"):
        run_workflow(GOOD_SCRIPT, condition="category.__class__ is str")
    with pytest.raises(WorkflowTaskException, match="脚本运行超过 1 秒，已被终止"):
        run_workflow(GOOD_SCRIPT, condition="any(x < 0 for x in range(10 ** 12))")
