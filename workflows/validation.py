"""Check a version — its BPMN files and its forms — before a manager can save or publish it.

`validate()` returns every problem it finds, in Chinese for a manager who is not a programmer and, wherever
possible, tied to one BPMN element so that the editor can mark it. It never raises: a file that is not XML, a
DTD, a missing process or broken JSON all become problems.

It runs the very parse publishing runs (`workflows.specs.parse`), so a version without problems can be
published, and adds the platform's own rules — lanes that name roles, forms the task page can show, expressions
the sandbox accepts, the messages the platform sends, loops that wait — which the engine would otherwise only
discover while a ticket is running."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from app.roles import ROLE_LABELS, parse_role
from workflows import specs
from workflows.script_engine import check_script

logger = logging.getLogger(__name__)

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"

# Messages the platform itself sends to a running ticket process — by name, through workflows.engine.deliver_message,
# to the instance of the ticket it concerns. The value says who sends it, in the manager's words. The check applies
# when the main process is specs.TICKET_PROCESS; a diagram that stops catching one would make every delivery end as
# "not_waiting" without anyone noticing.
PLATFORM_MESSAGES: dict[str, str] = {
    # The post-call survey (IVR / SMS) and the chat rating, when the citizen's satisfaction arrives for a ticket.
    "satisfaction_received": "回访满意度调查（通话后的语音/短信评价、在线评价）",
}

# The editor's own limit is smaller; this one only keeps a hostile request from tying up the parser.
MAX_FILE_CHARS = 4 * 1024 * 1024

KINDS = {
    "process": "流程", "lane": "泳道", "sequenceFlow": "连线", "task": "任务", "userTask": "用户任务",
    "manualTask": "人工任务", "scriptTask": "脚本任务", "serviceTask": "服务任务", "sendTask": "发送任务",
    "receiveTask": "接收任务", "businessRuleTask": "业务规则任务", "callActivity": "调用活动", "subProcess": "子流程",
    "transaction": "事务子流程", "adHocSubProcess": "自由子流程", "exclusiveGateway": "排他网关",
    "inclusiveGateway": "包容网关", "parallelGateway": "并行网关", "eventBasedGateway": "事件网关",
    "complexGateway": "复杂网关", "startEvent": "开始事件", "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
    "message": "消息",
}
SCOPES = {"subProcess", "transaction", "adHocSubProcess"}
FLOW_NODES = set(KINDS) - {"process", "lane", "sequenceFlow", "message"}
# Tasks that wait for a person, a message or a timer: the engine stops there until something happens.
WAITING = {"userTask", "manualTask", "receiveTask", "eventBasedGateway"}
PERSON_TASKS = {"userTask", "manualTask"}  # these appear in inboxes, so they need a role
CONDITIONAL_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}
UNSUPPORTED = {
    "serviceTask": "它要调用外部程序（例如 Camunda 的 Java 服务或表达式），本平台不能运行。"
                   "请改成脚本任务（写 Python 脚本），或改成由人办理的用户任务。",
    "businessRuleTask": "它要使用决策表（DMN），本平台不提供决策表。请改成脚本任务或排他网关加条件。",
    "complexGateway": "流程引擎不支持复杂网关。请改用排他网关、包容网关或并行网关。",
}
PYTHON_LANGUAGES = {"", "python", "python3", "text/x-python", "text/python"}

# What the task page can show (app/tickets/form_fields.py and templates/_field.html): text, integer and yes/no
# fields; enums as radio buttons or a drop-down; x-widget "textarea" for long text, "department" for a
# department drop-down (its value is the department id). A "number" would be posted as text and always refused.
FIELD_TYPES = {"string": "文字", "integer": "整数", "boolean": "是/否"}
WIDGETS = {"text": "string", "textarea": "string", "department": "integer"}  # x-widget → the type it needs

JUEL = re.compile(r"[#$]\{(?P<body>.*?)\}", re.S)
ISO_TIME = re.compile(r"(R\d*/)?P(?=\d|T\d)(\d+[YMWD])*(T(\d+(\.\d+)?[HMS])+)?|\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-][\d:]+)?")


@dataclass(frozen=True)
class Problem:
    """One thing that stops a version from being published.

    A form's problem is reported on each user task using the form (the diagram's file and the task's id, so the
    editor marks the task; the message names the form's file); only a form no task uses gets its own file."""

    file: str | None  # e.g. "ticket.bpmn" or "forms/approval.json"; None if not tied to a file
    element_id: str | None  # the BPMN element to mark in the editor; None if the problem is global
    message: str  # Chinese: names the element, says what is wrong and how to fix it


@dataclass
class _Scope:
    """A process or an embedded subprocess: the flow nodes and sequence flows directly inside it."""

    element: Element
    nodes: dict[str, Element] = field(default_factory=dict)  # id → node, in document order
    flows: list[Element] = field(default_factory=list)


@dataclass
class _Process:
    file: str
    element: Element
    scopes: list[_Scope]
    lane_of: dict[str, Element]  # node id → the lane that gives it its role (as the engine decides it)
    leaf_lanes: list[Element]  # lanes without lanes inside: only these assign roles

    @property
    def id(self) -> str:
        return self.element.get("id") or ""

    @property
    def has_lanes(self) -> bool:
        return bool(self.leaf_lanes)

    def nodes(self) -> Iterator[Element]:
        """Every flow node, embedded subprocesses' included."""
        for scope in self.scopes:
            yield from scope.nodes.values()


@dataclass
class _Version:
    """The parts of the submitted files the checks need."""

    texts: dict[str, str]  # well-formed .bpmn files, for the engine's own parse
    unreadable: list[str]  # .bpmn files that could not be read at all
    processes: dict[str, _Process]
    messages: dict[str, str]  # message id → message name, over all files
    forms: dict[str, str]  # form name → text of forms/<name>.json


# ---------------------------------------------------------------------------------------------------------- naming


def _tag(el: Element) -> str:
    """The BPMN tag without its namespace; "" for anything else (extensions, diagram layout)."""
    return el.tag[len(BPMN):] if isinstance(el.tag, str) and el.tag.startswith(BPMN) else ""


def _what(el: Element) -> str:
    """How a manager recognises an element: its kind and its name, or its id when it has no name."""
    kind = KINDS.get(_tag(el), "元素")
    name = " ".join((el.get("name") or "").split())
    return f"{kind}“{name}”" if name else f"{kind} {el.get('id') or '（无编号）'}"


def _roles_hint() -> str:
    return " / ".join(ROLE_LABELS.values())


def _text(el: Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _at(proc: _Process, el: Element, message: str) -> Problem:
    """A problem on one element of a process, so that the editor can mark it."""
    return Problem(proc.file, el.get("id"), message)


# --------------------------------------------------------------------------------------------------------- loading


def _parse_xml(name: str, text: object) -> tuple[Element | None, Problem | None]:
    """Parse one .bpmn file with defusedxml: DTDs and entities (XML bombs, file reads) are refused outright."""
    if not isinstance(text, str):
        return None, Problem(name, None, f"文件 {name} 的内容不是文字，无法作为流程图读取。请重新上传该文件。")
    if len(text) > MAX_FILE_CHARS:
        return None, Problem(name, None, f"文件 {name} 太大（超过 {MAX_FILE_CHARS // 1024 // 1024} MB），不像是流程图。")
    try:
        root = SafeElementTree.fromstring(text.encode("utf-8"), forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except DefusedXmlException:
        return None, Problem(name, None, f"文件 {name} 含有 DTD 或实体声明（<!DOCTYPE …>、<!ENTITY …>），"
                                         "出于安全原因不予接受。BPMN 编辑器导出的文件不会有这些内容，"
                                         "请用编辑器重新导出后再上传。")
    except SafeElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        return None, Problem(name, None, f"文件 {name} 不是格式正确的 XML（第 {line} 行第 {column} 列附近）。"
                                         f"文件可能不完整或被手工改坏了，请用流程编辑器重新保存。（解析器原文：{exc}）")
    except (ValueError, UnicodeError) as exc:  # e.g. lone surrogates that cannot be encoded
        return None, Problem(name, None, f"文件 {name} 含有无法识别的字符，不能作为流程图读取。（原文：{exc}）")
    if root.tag != f"{BPMN}definitions":
        return None, Problem(name, None, f"文件 {name} 不是 BPMN 流程图：最外层应为 bpmn:definitions。"
                                         "请上传由 BPMN 编辑器保存或导出的 .bpmn 文件。")
    return root, None


def _scopes(element: Element) -> list[_Scope]:
    """The process and every embedded subprocess in it, each with its own nodes and flows."""
    result, pending = [], [element]
    while pending:
        scope = _Scope(pending.pop(0))
        for child in scope.element:
            tag = _tag(child)
            if tag == "sequenceFlow":
                scope.flows.append(child)
            elif tag in FLOW_NODES and child.get("id"):
                scope.nodes[child.get("id")] = child
                if tag in SCOPES:
                    pending.append(child)
        result.append(scope)
    return result


def _lanes(element: Element, scopes: list[_Scope]) -> tuple[dict[str, Element], list[Element]]:
    """The lane of each node as the engine reads it: the innermost lane listing it, except that everything inside
    an embedded subprocess takes the subprocess's lane."""
    own: dict[str, Element] = {}
    leaves = []
    for lane in element.iter(f"{BPMN}lane"):  # document order: nested lanes come after, so the innermost wins
        for ref in lane.iterfind(f"{BPMN}flowNodeRef"):
            own[_text(ref)] = lane
        if lane.find(f"{BPMN}childLaneSet/{BPMN}lane") is None:
            leaves.append(lane)
    lane_of: dict[str, Element] = {}
    inherited: dict[int, Element | None] = {id(element): None}
    for scope in scopes:  # parents before children
        outer = inherited.get(id(scope.element))
        for node_id, node in scope.nodes.items():
            lane = outer if outer is not None else own.get(node_id)
            if lane is not None:
                lane_of[node_id] = lane
            if _tag(node) in SCOPES:
                inherited[id(node)] = lane
    return lane_of, leaves


def _load(files: dict) -> tuple[_Version, list[Problem]]:
    version, problems = _Version({}, [], {}, {}, {}), []
    for name, text in files.items():
        if not isinstance(name, str):
            problems.append(Problem(None, None, f"文件名 {name!r} 不是文字，该文件被忽略。"))
        elif name.startswith("forms/") and name.endswith(".json"):
            version.forms[name[len("forms/"):-len(".json")]] = text
        elif name.endswith(".bpmn"):
            root, problem = _parse_xml(name, text)
            if problem is not None:
                problems.append(problem)
                version.unreadable.append(name)
                continue
            version.texts[name] = text
            for message in root.iter(f"{BPMN}message"):
                version.messages[message.get("id") or ""] = message.get("name") or ""
            for element in root.iter(f"{BPMN}process"):
                problems.extend(_add_process(version, name, element))
    return version, problems


def _add_process(version: _Version, name: str, element: Element) -> list[Problem]:
    pid = element.get("id")
    if not pid:
        return [Problem(name, None, f"文件 {name} 中有一个流程没有编号（id），请在编辑器中为它填写编号。")]
    if pid in version.processes:
        other = version.processes[pid].file
        return [Problem(name, pid, f"{_what(element)}的编号 {pid} 与文件 {other} 中的流程重复。"
                                   "每个流程的编号必须唯一，请改名其中一个。")]
    scopes = _scopes(element)
    lane_of, leaves = _lanes(element, scopes)
    version.processes[pid] = _Process(name, element, scopes, lane_of, leaves)
    return []


def _reachable(process_id: str, version: _Version) -> list[_Process]:
    """The main process and every process it calls, directly or through others."""
    seen, pending, result = {process_id}, [process_id], []
    while pending:
        proc = version.processes.get(pending.pop(0))
        if proc is None:
            continue
        result.append(proc)
        for called in proc.element.iter(f"{BPMN}callActivity"):
            target = called.get("calledElement")
            if target and target not in seen:
                seen.add(target)
                pending.append(target)
    return result


# ---------------------------------------------------------------------------------------------- rule 1: main process


def _check_main(process_id: str, version: _Version) -> list[Problem]:
    proc = version.processes.get(process_id)
    if proc is None:
        known = "、".join(version.processes) or "（没有）"
        unreadable = f"它也可能在无法读取的文件 {'、'.join(version.unreadable)} 中。" if version.unreadable else ""
        return [Problem(None, None, f"找不到主流程 {process_id}：没有哪个 .bpmn 文件包含编号（id）为 {process_id} 的流程。"
                                    f"{unreadable}请检查流程的编号。文件中现有的流程：{known}。")]
    if proc.element.get("isExecutable") == "false":
        return [Problem(proc.file, process_id, f"{_what(proc.element)}没有设为“可执行”（isExecutable），平台无法运行它。"
                                               "请在编辑器的流程属性中勾选“可执行”。")]
    return []


# -------------------------------------------------------------------------------------- rule 2: the engine's parse


# The engine's (SpiffWorkflow 3.2) parse errors in words a manager understands.
ENGINE_MESSAGES: list[tuple[str, str]] = [
    (r"Non-default exclusive outgoing sequence flow without condition",
     "这条从网关出发的连线既没有条件，也不是网关的默认路径。请写条件，或把它设为默认路径"),
    (r"A Service Task must have an operator", UNSUPPORTED["serviceTask"]),
    (r"There is no support implemented for this task type", "流程引擎不支持这种元素，请换成用户任务、脚本任务或网关"),
    (r"Process .* is not executable", "流程没有设为“可执行”（isExecutable），请在流程属性中勾选"),
    (r"No start event found", "流程没有开始事件，请添加一个开始事件"),
    (r"Multiple outgoing flows are not supported",
     "这个元素有多条出去的连线，流程引擎不知道该走哪条。请在它后面加一个网关来分支"),
    (r"Duplicate process ID", "流程编号重复，请改名其中一个"),
    (r"No Script Provided", "脚本任务没有脚本，请填写 Python 脚本"),
    (r"Time Specification|Unknown Time Specification", "计时器没有设置时间，请填写日期、时长或周期"),
    (r'No "calledElement" attribute', "调用活动没有指定要调用的流程，请填写被调用流程的编号"),
    (r"Exactly one start event is required", "子流程必须有且只有一个开始事件"),
    (r"A SubWorkflow Must contain an End event", "子流程必须有结束事件"),
    (r"Expected an? (Message|Signal|Error|Escalation) node",
     "事件引用的消息、信号、错误或升级定义不存在，请在事件属性中重新选择"),
    (r"When looking for a task spec", "连线指向的元素不存在，请重新连接或删除这条连线"),
    (r"Conditional event definition with missing condition", "条件事件没有填写条件"),
    (r"Cannot resolve data(Input|Output)Association", "数据关联指向的数据对象不存在"),
    (r"identifier is missing", "消息、信号或错误定义缺少编号"),
    (r"A loopMaximum or loopCondition", "循环任务需要最大次数或循环条件"),
    (r"Cancel Events may only be used with transactions", "取消事件只能用在事务子流程中"),
]


def _engine_message(exc: BaseException) -> str:
    original = str(exc.args[0]) if exc.args else type(exc).__name__
    if isinstance(exc, RecursionError):
        return ("流程图中一条线上串联的元素太多（约 500 个以上），流程引擎无法读取。请把一部分步骤拆到调用活动（子流程）中。"
                f"（流程引擎原文：{original}）")
    for pattern, chinese in ENGINE_MESSAGES:
        if re.search(pattern, original):
            return f"{chinese.rstrip('。')}。（流程引擎原文：{original.strip()}）"
    return f"流程引擎无法读取这里。（流程引擎原文：{original.strip()}）"


def _engine_error(process_id: str, texts: dict[str, str]) -> BaseException | None:
    """The exception publishing would meet, unwrapped from specs.DiagramError so that its element id is kept."""
    try:
        specs.parse(process_id, texts)
    except specs.DiagramError as error:
        return error.__cause__ or error
    except Exception as exc:  # the parser raises many types; all mean "cannot be published"
        return exc
    return None


def _check_engine(process_id: str, version: _Version, found: list[Problem]) -> list[Problem]:
    """Parse as publishing does. The engine stops at its first error; one already reported by a clearer check
    (same element) is left out, and so is "process not found", which rules 1 and 2 word better."""
    exc = _engine_error(process_id, version.texts) if process_id in version.processes else None
    if exc is None:
        return []
    if not isinstance(exc, ValidationException):
        return [Problem(None, None, _engine_message(exc))]
    if re.search(r"The process '.*' was not found", str(exc)) or (exc.id and exc.id in {p.element_id for p in found}):
        return []
    if not exc.id:
        return [Problem(exc.file_name or None, None, _engine_message(exc))]
    kind = KINDS.get(str(exc.tag).removeprefix("bpmn:"), "元素")
    what = f"{kind}“{exc.name}”" if exc.name else f"{kind} {exc.id}"
    return [Problem(exc.file_name or None, exc.id, f"{what}：{_engine_message(exc)}")]


def _check_calls(proc: _Process, version: _Version) -> list[Problem]:
    problems = []
    for node in proc.nodes():
        if _tag(node) != "callActivity":
            continue
        target = (node.get("calledElement") or "").strip()
        if not target:
            problems.append(_at(proc, node, f"{_what(node)}没有指定要调用的流程。请在属性中填写被调用流程的编号"
                                            "（Called element），例如 ticket_handling。"))
        elif target not in version.processes:
            known = "、".join(version.processes) or "（没有）"
            problems.append(_at(proc, node, f"{_what(node)}要调用的流程 {target} 不存在。请一并上传包含该流程的"
                                            f" .bpmn 文件，或改为调用现有的流程：{known}。"))
    return problems


def _check_flow_ends(proc: _Process) -> list[Problem]:
    """Connections to elements that were deleted: the engine would stop with an obscure error."""
    problems = []
    for scope in proc.scopes:
        for flow in scope.flows:
            for end, label in (("sourceRef", "起点"), ("targetRef", "终点")):
                if flow.get(end) not in scope.nodes:
                    problems.append(_at(proc, flow, f"{_what(flow)}的{label} {flow.get(end) or '（空）'} 不存在"
                                                    "（可能已被删除）。请重新连接或删除这条连线。"))
        for node in scope.nodes.values():
            host = node.get("attachedToRef")
            if _tag(node) == "boundaryEvent" and host not in scope.nodes:
                problems.append(_at(proc, node, f"{_what(node)}没有附着在任何任务上（它附着的元素 {host or '（空）'} "
                                                "不存在）。请把它拖到一个任务的边框上。"))
    return problems


def _check_unsupported(proc: _Process) -> list[Problem]:
    return [_at(proc, node, f"{_what(node)}：{UNSUPPORTED[_tag(node)]}")
            for node in proc.nodes() if _tag(node) in UNSUPPORTED]


# -------------------------------------------------------------------------------------------------- rule 3: lanes


def _check_lanes(proc: _Process) -> list[Problem]:
    problems = []
    for lane in proc.leaf_lanes:
        name = (lane.get("name") or "").strip()
        if not name:
            problems.append(_at(proc, lane, f"{_what(lane)}没有名称。泳道的名称决定由哪个角色办理其中的任务，"
                                            f"请命名为 {_roles_hint()} 之一。"))
        elif parse_role(name) is None:
            problems.append(_at(proc, lane, f"泳道“{name}”没有对应的角色，请改名为 {_roles_hint()} 之一，"
                                            "泳道中的任务才会出现在该角色的待办中。"))
    for node in proc.nodes():
        if _tag(node) not in PERSON_TASKS or node.get("id") in proc.lane_of:
            continue
        if proc.has_lanes:
            message = (f"{_what(node)}不在任何泳道里，平台不知道该交给哪个角色办理。请把它拖进相应角色的泳道"
                       f"（{_roles_hint()}）。")
        else:
            message = (f"{_what(proc.element)}没有泳道，{_what(node)}不知道该交给哪个角色办理。请给流程添加泳道，以角色命名"
                       f"（{_roles_hint()}），并把任务放进相应的泳道。")
        problems.append(_at(proc, node, message))
    return problems


# -------------------------------------------------------------------------------------------------- rule 4: forms


def _form_property(node: Element) -> str | None:
    for prop in node.iterfind(f"{BPMN}extensionElements/{SPIFF}properties/{SPIFF}property"):
        if prop.get("name") == "form":
            return (prop.get("value") or "").strip() or None
    return None


def _camunda_form(node: Element) -> str | None:
    """A form in Camunda's terms (form key, form reference or generated form fields), if the element has one."""
    for attribute in ("formKey", "formRef"):
        if node.get(f"{CAMUNDA}{attribute}"):
            return node.get(f"{CAMUNDA}{attribute}")
    if node.find(f"{BPMN}extensionElements/{CAMUNDA}formData") is not None:
        return "camunda:formData"
    return None


def _required_lists(schema: dict) -> Iterator[object]:
    """Every `required` the form applies: at the top and in its then/else/allOf/anyOf/oneOf branches."""
    pending = [schema]
    while pending:
        part = pending.pop()
        if not isinstance(part, dict):
            continue
        if "required" in part:
            yield part["required"]
        pending.extend(part[key] for key in ("then", "else") if key in part)
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(part.get(key), list):
                pending.extend(part[key])


def _field_label(name: str, prop: object) -> str:
    title = prop.get("title") if isinstance(prop, dict) else None
    return f"字段“{title}”（{name}）" if isinstance(title, str) and title.strip() else f"字段 {name}"


def _field_issues(name: str, prop: object, declared: set[str]) -> list[str]:
    """Whether the task page can show this field and turn what is typed into the value the schema expects."""
    label = _field_label(name, prop)
    if not isinstance(prop, dict):
        return [f"{label}的定义必须是一个对象，例如 {{\"title\": \"说明\", \"type\": \"string\"}}。"]
    kinds = prop.get("type", "string")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    supported = "、".join(f"{text} {kind}" for kind, text in FIELD_TYPES.items())
    unknown = sorted(str(kind) for kind in kinds - set(FIELD_TYPES) - {"null"})
    if unknown:
        extra = ("（小数请用 string 或 integer：任务页面会把 number 当作文字提交，永远通不过检查）"
                 if "number" in unknown else "")
        return [f"{label}的类型 {'、'.join(unknown)} 无法在任务页面上显示和填写{extra}。可用的类型：{supported}。"]
    if len(kinds - {"null"}) != 1:
        return [f"{label}只能有一种类型（{supported}），可以另加 null 表示可不填。"]
    kind = next(iter(kinds - {"null"}))
    issues = []
    widget = prop.get("x-widget")
    if widget is not None and widget not in WIDGETS:
        issues.append(f"{label}的控件 x-widget = {widget!r} 不被支持。可用的控件：textarea（多行文字）、"
                      "department（承办部门下拉框，类型须为 integer）。")
    elif widget is not None and WIDGETS[widget] != kind:
        issues.append(f"{label}的控件 {widget} 需要类型 {WIDGETS[widget]}，而字段的类型是 {kind}。")
    if "enum" in prop:
        issues.extend(_enum_issues(label, prop, kind))
    when = prop.get("x-when")
    if when is not None and (not isinstance(when, dict) or not set(when) <= declared):
        issues.append(f"{label}的显示条件 x-when 必须写成 {{\"另一个字段\": 取值}}，且引用的字段要在表单中定义。")
    return issues


def _enum_issues(label: str, prop: dict, kind: str) -> list[str]:
    values = prop["enum"]
    wanted = {"string": str, "integer": int}.get(kind)
    if wanted is None:
        return [f"{label}是{FIELD_TYPES[kind]}类型，不能再设置可选值（enum）；可选值只能用于 string 或 integer 类型。"]
    if not isinstance(values, list) or not values or not all(
            isinstance(v, wanted) and not isinstance(v, bool) for v in values):
        return [f"{label}的可选值（enum）必须是一组{FIELD_TYPES[kind]}，与字段类型 {kind} 一致。"]
    labels = prop.get("x-labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        return [f"{label}的选项名称 x-labels 必须写成 {{\"取值\": \"显示的文字\"}}。"]
    return []


def _form_issues(text: object) -> list[str]:
    """What keeps a form from being used: not JSON, not a JSON Schema, or a field the task page cannot show."""
    if not isinstance(text, str):
        return ["内容不是文字。"]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）。请检查括号、引号和逗号。"]
    except (ValueError, RecursionError) as exc:
        return [f"不是有效的 JSON（{exc}）。"]
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return ["必须是一个 JSON Schema 对象：最外层写 \"type\": \"object\"，字段写在 \"properties\" 中。"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = " → ".join(str(part) for part in exc.absolute_path) or "最外层"
        return [f"不符合 JSON Schema 规范（位置：{where}）：{exc.message}"]
    except RecursionError:
        return ["嵌套层次太深，不像是一个表单。"]
    properties = schema["properties"]
    declared = set(properties)
    issues = []
    for required in _required_lists(schema):
        missing = [name for name in required if name not in declared] if isinstance(required, list) else []
        if missing:
            issues.append(f"必填项 {'、'.join(map(str, missing))} 没有在 properties 中定义，这个表单将永远无法提交。"
                          "请定义这些字段，或从 required 中删除。")
    for name, prop in properties.items():
        issues.extend(_field_issues(name, prop, declared))
    return issues


def _check_forms(proc: _Process, version: _Version, issues: dict[str, list[str]]) -> list[Problem]:
    problems = []
    for node in proc.nodes():
        tag, form = _tag(node), _form_property(node)
        camunda = _camunda_form(node)
        if tag == "startEvent" and camunda:
            problems.append(_at(proc, node, f"{_what(node)}带有 Camunda 的开始表单（{camunda}），本平台不显示开始表单："
                                            "工单由第一个用户任务的表单登记。请删除开始表单，"
                                            "把要填写的内容放进第一个用户任务的表单。"))
        if tag not in PERSON_TASKS or (tag == "manualTask" and form is None):
            continue
        if form is None:
            problems.append(_at(proc, node, _missing_form(node, camunda)))
        elif form not in version.forms:
            known = "、".join(sorted(version.forms)) or "目前没有表单"
            problems.append(_at(proc, node, f"{_what(node)}的表单 {form} 不存在：找不到文件 forms/{form}.json。"
                                            f"请新建这个表单，或把任务的 form 属性改为已有的表单名（{known}）。"))
        else:
            problems.extend(_at(proc, node, f"{_what(node)}的表单 forms/{form}.json：{issue}") for issue in issues[form])
    return problems


def _missing_form(node: Element, camunda: str | None) -> str:
    if camunda:
        return (f"{_what(node)}使用的是 Camunda 的表单（{camunda}），本平台无法显示。请在 forms/ 中定义一个 JSON 表单，"
                "并在任务上添加扩展属性 form，值为表单名。")
    return (f"{_what(node)}没有指定表单，办理人将无从填写。请在任务上添加扩展属性 form，值为表单名"
            "（对应文件 forms/<表单名>.json）。")


def _check_unused_forms(version: _Version, used: set[str], issues: dict[str, list[str]]) -> list[Problem]:
    """A broken form nobody uses still blocks publishing (every form of a version is read), so say so."""
    return [Problem(f"forms/{name}.json", None, f"表单 forms/{name}.json：{issue}")
            for name in version.forms if name not in used for issue in issues[name]]


# ------------------------------------------------------------------------------------------- rule 5: expressions


def _expressions(node: Element) -> Iterator[tuple[str, str | None, str, Element]]:
    """(what it is, its text, "eval" or "exec", the XML element holding it) for every expression the engine runs
    for this node or flow; nested subprocess contents are their own nodes."""
    tag = _tag(node)
    if tag == "sequenceFlow":
        condition = node.find(f"{BPMN}conditionExpression")
        if condition is not None and _text(condition):
            yield "条件", condition.text, "eval", condition
    if tag == "scriptTask":
        script = node.find(f"{BPMN}script")
        yield "脚本", script.text if script is not None else None, "exec", node
    for kind, label in (("preScript", "执行前脚本"), ("postScript", "执行后脚本")):
        for script in node.iterfind(f"{BPMN}extensionElements/{SPIFF}{kind}"):
            if _text(script):
                yield label, script.text, "exec", script
    for timer in node.iterfind(f"{BPMN}timerEventDefinition"):
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            for expression in timer.iterfind(f"{BPMN}{kind}"):
                yield "计时器时间", expression.text, "eval", expression
    for condition in node.iterfind(f"{BPMN}conditionalEventDefinition/{BPMN}condition"):
        yield "条件", condition.text, "eval", condition
    for path in ("multiInstanceLoopCharacteristics/{0}loopCardinality",
                 "multiInstanceLoopCharacteristics/{0}completionCondition", "standardLoopCharacteristics/{0}loopCondition"):
        for expression in node.iterfind(BPMN + path.format(BPMN)):
            if _text(expression):
                yield "循环条件", expression.text, "eval", expression


def _juel_hint(body: str) -> str:
    """A Python version of a simple JUEL condition, to show the manager what to write."""
    body = body.strip()
    if re.fullmatch(r"!\s*\w+", body):
        return f"not {body.lstrip('!').strip()}"
    if re.fullmatch(r"\w+", body):
        return f"{body} == True"
    return "approved == True"


EXAMPLES = {
    "条件": "条件要写成 Python 表达式，例如 approved == True 或 satisfaction == 'satisfied'。",
    "计时器时间": "计时器时间要写成 Python 表达式，例如任务数据中的时间变量 handle_due_at，或带引号的时长 'PT2H'。",
    "循环条件": "要写成 Python 表达式，例如 len(items) 或 done == True。",
}


def _expression_problem(node: Element, label: str, text: str | None, mode: str, holder: Element) -> str | None:
    source = (text or "").strip()
    if not source:
        return f"{_what(node)}没有填写{label}，请补上。" + EXAMPLES.get(label, "")
    language = (holder.get("language") or node.get("scriptFormat") or "").strip().lower()
    if language not in PYTHON_LANGUAGES and language != "juel":
        return (f"{_what(node)}的{label}使用了 {language} 语言，本平台只能运行 Python。请改写为 Python。"
                + EXAMPLES.get(label, ""))
    juel = JUEL.search(source)
    if juel:
        return (f"{_what(node)}的{label}使用了 Camunda 的 JUEL 表达式 {juel.group(0)}，本平台使用 Python 表达式，"
                f"例如 {_juel_hint(juel.group('body'))}。")
    if label == "计时器时间" and ISO_TIME.fullmatch(source):
        return (f"{_what(node)}的计时器时间 {source} 是 Camunda 的写法。本平台把计时器时间当作 Python 表达式计算，"
                f"请写成带引号的文字 '{source}'，或一个保存时间的变量名。")
    errors = check_script(source, mode)
    if errors:
        return f"{_what(node)}的{label}有误：{'；'.join(errors)}。" + EXAMPLES.get(label, "")
    return None


def _check_expressions(proc: _Process) -> list[Problem]:
    problems = []
    for scope in proc.scopes:
        for node in [*scope.nodes.values(), *scope.flows]:
            for label, text, mode, holder in _expressions(node):
                message = _expression_problem(node, label, text, mode, holder)
                if message:
                    problems.append(_at(proc, node, message))
    return problems


# ------------------------------------------------------------------------------------------- rule 6: messages


def _catches(node: Element, message_ids: set[str]) -> bool:
    if _tag(node) == "receiveTask":
        return node.get("messageRef") in message_ids
    return _tag(node) in {"boundaryEvent", "intermediateCatchEvent"} and any(
        definition.get("messageRef") in message_ids for definition in node.iterfind(f"{BPMN}messageEventDefinition"))


def _check_platform_messages(process_id: str, version: _Version) -> list[Problem]:
    """The platform sends these messages to the ticket process: a diagram that no longer waits for one would make
    every delivery fail ("流程当前不等待此消息") without anyone noticing."""
    main = version.processes.get(process_id)
    if process_id != specs.TICKET_PROCESS or main is None:
        return []
    reachable = _reachable(process_id, version)
    problems = []
    for name, sender in PLATFORM_MESSAGES.items():
        ids = {mid for mid, mname in version.messages.items() if mname == name}
        if not ids:
            problems.append(Problem(main.file, None, f"流程中没有定义消息 {name}。平台会在收到{sender}时"
                                                     f"向工单流程发送这条消息，请添加一个名称为 {name} 的消息，"
                                                     "并用边界事件或中间捕获事件接收它。"))
        elif not any(_catches(node, ids) for proc in reachable for node in proc.nodes()):
            problems.append(Problem(main.file, None, f"平台发送的消息 {name} 在流程中没有接收事件。平台会在收到{sender}时"
                                                     "发送这条消息，没有接收它的事件，评价将无法进入工单。请在相应任务"
                                                     "（例如“回访”）上添加引用该消息的消息边界事件，或添加中间捕获事件。"))
    return problems


# User tasks the platform's own code refers to by id (an editor could rename or delete them and the diagram would
# still parse): the new-ticket page completes `intake`, intake dispatches through `dispatch` and times the first
# handling from it, the return time is read when `department_handle` returns, `callback` is the agents' pool.
PLATFORM_TASKS: dict[str, str] = {
    "intake": "受理（来电/来信页面直接办理此步骤）",
    "dispatch": "派单（受理时一并派单，初次处理时间由此计算）",
    "department_accept": "签收（承办部门收件箱与签收时限）",
    "department_handle": "办理（返单时间与办结时限）",
    "callback": "回访（坐席公共回访池与满意度）",
}


def _check_platform_tasks(process_id: str, version: _Version) -> list[Problem]:
    main = version.processes.get(process_id)
    if process_id != specs.TICKET_PROCESS or main is None:
        return []
    present = {node.get("id") for proc in _reachable(process_id, version) for node in proc.nodes()
               if _tag(node) == "userTask"}
    return [Problem(main.file, None, f"平台依赖编号为 {task_id} 的人工步骤“{role}”，流程中已找不到它。"
                                     "可以修改它的名称、表单和前后连线，但请保留这个编号。")
            for task_id, role in PLATFORM_TASKS.items() if task_id not in present]


# ---------------------------------------------------------------------------------------------- rule 7: loops


def _may_wait(element: Element, version: _Version, seen: set[str]) -> bool:
    """Whether running this element (or anything inside it, or a process it calls) can stop and wait."""
    for node in element.iter():
        tag = _tag(node)
        if tag in WAITING:
            return True
        if tag == "intermediateCatchEvent" and node.find(f"{BPMN}linkEventDefinition") is None:
            return True
        if tag == "callActivity":
            called = node.get("calledElement") or ""
            if called in seen:
                continue
            seen.add(called)
            proc = version.processes.get(called)
            if proc is None or _may_wait(proc.element, version, seen):  # an unknown process is reported elsewhere
                return True
    return False


def _successors(scope: _Scope) -> dict[str, list[str]]:
    """Sequence flows, plus activity → its boundary events, plus link throw → link catch of the same name."""
    succ: dict[str, list[str]] = {node_id: [] for node_id in scope.nodes}
    for flow in scope.flows:
        if flow.get("sourceRef") in succ and flow.get("targetRef") in scope.nodes:
            succ[flow.get("sourceRef")].append(flow.get("targetRef"))
    links: dict[str, list[str]] = {}
    for node_id, node in scope.nodes.items():
        if _tag(node) == "boundaryEvent" and node.get("attachedToRef") in succ:
            succ[node.get("attachedToRef")].append(node_id)
        for link in node.iterfind(f"{BPMN}linkEventDefinition"):
            if _tag(node) == "intermediateCatchEvent":
                links.setdefault(link.get("name") or "", []).append(node_id)
    for node_id, node in scope.nodes.items():
        for link in node.iterfind(f"{BPMN}linkEventDefinition"):
            if _tag(node) == "intermediateThrowEvent":
                succ[node_id].extend(links.get(link.get("name") or "", []))
    return succ


def _components(order: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), iterative so a long diagram cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result = []
    for root in order:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    result.append(component)
    return result


def _check_loops(proc: _Process, version: _Version) -> list[Problem]:
    """A loop the engine can go round without ever waiting runs until the task tree is 1000 deep, then the engine
    silently reports the workflow completed (see ENGINE-NOTES.md): refuse such loops before they are published."""
    problems = []
    for scope in proc.scopes:
        position = {node_id: i for i, node_id in enumerate(scope.nodes)}
        succ = _successors(scope)
        for component in _components(list(scope.nodes), succ):
            if len(component) == 1 and component[0] not in succ[component[0]]:
                continue
            members = sorted(component, key=position.__getitem__)
            if any(_may_wait(scope.nodes[m], version, set()) for m in members):
                continue
            gateways = [m for m in members if _tag(scope.nodes[m]).endswith("Gateway")]
            anchor = scope.nodes[(gateways or members)[0]]
            if len(members) == 1:
                loop = f"{_what(anchor)}连回了它自己，这个循环"
            else:
                loop = f"{_what(anchor)}所在的循环（{' → '.join(_what(scope.nodes[m]) for m in members)}）"
            problems.append(_at(proc, anchor, f"{loop}中没有任何需要等待的环节（用户任务、接收消息、计时器等），"
                                              "流程一旦进入就会不停地自动兜圈，直到被系统强行终止。"
                                              "请在循环中加入一个用户任务或计时器，或修改条件让流程能离开循环。"))
    return problems


# ------------------------------------------------------------------------------------------- rule 8: gateways


def _check_gateways(proc: _Process) -> list[Problem]:
    """Every way out of a deciding gateway needs a condition or must be its default, else the engine stops."""
    problems = []
    for scope in proc.scopes:
        outgoing: dict[str, list[Element]] = {}
        for flow in scope.flows:
            outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
        for node_id, node in scope.nodes.items():
            flows = outgoing.get(node_id, [])
            if _tag(node) not in CONDITIONAL_GATEWAYS:
                continue
            default = node.get("default")
            if default and default not in {flow.get("id") for flow in flows}:
                problems.append(_at(proc, node, f"{_what(node)}的默认路径 {default} 不是从它出发的连线。"
                                                "请在网关属性中重新选择默认路径。"))
            if len(flows) < 2:
                continue
            for flow in flows:
                if flow.get("id") != default and not _text(flow.find(f"{BPMN}conditionExpression")):
                    problems.append(_at(proc, flow, f"{_what(flow)}从{_what(node)}出发，但既没有条件，"
                                                    "也不是网关的默认路径，流程走到这里会出错。请为这条连线填写条件"
                                                    "（例如 approved == True），或把它设为网关的默认路径。"))
    return problems


# ------------------------------------------------------------------------------------------------------- entry


def _check_process(proc: _Process, version: _Version, issues: dict[str, list[str]]) -> list[Problem]:
    return [*_check_flow_ends(proc), *_check_unsupported(proc), *_check_calls(proc, version), *_check_lanes(proc),
            *_check_forms(proc, version, issues), *_check_expressions(proc), *_check_gateways(proc),
            *_check_loops(proc, version)]


def _validate(process_id: str, files: dict) -> list[Problem]:
    version, problems = _load(files)
    problems += _check_main(process_id, version)
    # Every process the main one runs, and any other executable one (a pool that is only drawn is left alone).
    checked = {proc.id: proc for proc in _reachable(process_id, version)}
    checked.update({pid: proc for pid, proc in version.processes.items() if proc.element.get("isExecutable") != "false"})
    issues = {name: _form_issues(text) for name, text in version.forms.items()}
    for proc in checked.values():
        problems += _check_process(proc, version, issues)
    used = {_form_property(node) for proc in checked.values() for node in proc.nodes()}
    problems += _check_unused_forms(version, used, issues)
    problems += _check_platform_messages(process_id, version)
    problems += _check_platform_tasks(process_id, version)
    problems += _check_engine(process_id, version, problems)
    return list(dict.fromkeys(problems))


def validate(process_id: str, files: dict[str, str]) -> list[Problem]:
    """Every problem in this set of files for a version whose main process is `process_id`; [] means it can be
    published. Never raises."""
    if not isinstance(files, dict):
        return [Problem(None, None, "提交的内容不是一组文件，无法检查。")]
    if not isinstance(process_id, str) or not process_id.strip():
        return [Problem(None, None, "没有指定主流程的编号，无法检查。")]
    try:
        return _validate(process_id, files)
    except Exception:  # a bug in a check must not turn into an error page in the editor
        logger.exception("validating process %s failed", process_id)
        return [Problem(None, None, "检查流程时发生了意外错误，暂时无法保存或发布。请联系技术支持。")]
