"""What changed between two versions of a diagram set (流程版本对比).

A version is a dict of files: `*.bpmn` diagrams and `forms/*.json` form schemas. The comparison is
semantic: every BPMN element with an id (tasks, events, gateways, flows, lanes, messages, the
process itself ...) gets a signature made of what affects execution or meaning — its tag, name,
attributes, extension properties, scripts, conditions, timers, references and the lane it sits
in — and two versions differ only where signatures differ. Layout (BPMNDI) never counts, so
moving a shape in the modeler produces no change.

Forms are compared as parsed JSON, so re-indenting a file is not a change either.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException, ElementTree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# Prefixes for foreign attributes in details: users know them from the modeler's XML view.
KNOWN_PREFIXES = {
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/modeler/1.0": "modeler",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}

# Elements whose id-bearing BPMN children are compared on their own; everything else with an id
# (event definitions, loop characteristics ...) is folded into the element that owns it, so a
# changed timer shows up on the boundary event a user recognises, not on an anonymous child.
CONTAINERS = {"definitions", "process", "collaboration", "subProcess", "transaction", "adHocSubProcess",
              "laneSet", "childLaneSet", "lane"}

# incoming/outgoing merely repeat the sequence flows' sourceRef/targetRef (Camunda writes them,
# Spiff does not); counting them would flag both ends of every redirected flow. A lane's
# flowNodeRefs become the nodes' "所在泳道" instead, so adding a task does not change its lane.
DERIVED_CHILDREN = {"incoming", "outgoing", "flowNodeRef"}

ATTRIBUTE_LABELS = {
    "name": "名称",
    "sourceRef": "连线来源",
    "targetRef": "连线目标",
    "default": "默认连线",
    "calledElement": "被调用流程",
    "attachedToRef": "附着于",
    "cancelActivity": "中断所附着的活动",
    "messageRef": "消息",
    "signalRef": "信号",
    "errorRef": "错误",
    "escalationRef": "升级事件",
    "processRef": "参与的流程",
    "isExecutable": "可执行",
    "triggeredByEvent": "事件子流程",
}
TEXT_LABELS = {
    "conditionExpression": "条件",
    "script": "脚本",
    "timeDate": "定时日期",
    "timeDuration": "定时时长",
    "timeCycle": "定时周期",
    "messageVariable": "消息变量",
    "documentation": "说明",
    "text": "文本",
    "loopCardinality": "循环次数",
    "completionCondition": "完成条件",
}
LANE = "所在泳道"
EVENT_TYPE = "事件类型"
FORM = "表单"
TYPE = "类型"
# Values under these labels are ids; details show the referenced element's name instead, but the
# signature keeps the id so renaming a task does not "change" every flow pointing at it.
# On nested parts only references get their own label: a nested dataInput's `name` is not the
# element's name.
NESTED_ATTRIBUTES = {"messageRef", "signalRef", "errorRef", "escalationRef"}
REFERENCE_LABELS = {"连线来源", "连线目标", "默认连线", "附着于", "消息", "信号", "错误", "升级事件", "参与的流程", LANE}
DETAIL_ORDER = [TYPE, "名称", LANE, "连线来源", "连线目标", "条件", "默认连线", FORM, EVENT_TYPE]
KIND_ORDER = {"added": 0, "changed": 1, "removed": 2}
SHORT_VALUE = 80  # longer values (scripts) are reported as "已修改" rather than quoted
MISSING = "（无）"


class DiffInputError(ValueError):
    """A file in one of the versions cannot be read (malformed XML or JSON); the message is Chinese."""


@dataclass(frozen=True)
class ElementChange:
    file: str  # "ticket.bpmn"
    element_id: str
    name: str | None  # the element's name attribute, for display
    kind: str  # "added" | "removed" | "changed"
    type: str  # local tag name: "userTask", "sequenceFlow", "lane" ...
    details: list[str] = field(default_factory=list)  # Chinese; what changed, or for added/removed what it is


@dataclass(frozen=True)
class FormChange:
    file: str  # "forms/intake.json"
    name: str  # "intake", the name user tasks refer to
    title: str | None  # the schema's title (受理)
    kind: str  # "added" | "removed" | "changed"
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DiffResult:
    elements: list[ElementChange]
    forms: list[FormChange]
    files_added: list[str]
    files_removed: list[str]

    @property
    def has_changes(self) -> bool:
        return bool(self.elements or self.forms or self.files_added or self.files_removed)


@dataclass(frozen=True)
class _Element:
    tag: str
    name: str | None
    facets: dict[str, tuple[str, ...]]  # label → sorted values; with tag, the element's semantic signature


@dataclass(frozen=True)
class _Diagram:
    elements: dict[str, _Element]  # id → element
    names: dict[str, str]  # id → name, to show references readably


# ---------------------------------------------------------------- diagrams


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _qualified(attribute: str) -> str:
    namespace = _namespace(attribute)
    if not namespace:
        return attribute
    prefix = KNOWN_PREFIXES.get(namespace)
    return f"{prefix}:{_local(attribute)}" if prefix else _local(attribute)


def _is_tracked(element: Element, parent: Element | None) -> bool:
    return (parent is not None and element.get("id") is not None and _namespace(element.tag) == BPMN_NS
            and _namespace(parent.tag) == BPMN_NS and _local(parent.tag) in CONTAINERS)


def _parse_xml(text: str, file: str, side: str) -> Element:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise DiffInputError(f"{side}版本的 {file} 不是有效的 XML（第 {line} 行第 {column} 列附近）") from exc
    except DefusedXmlException as exc:
        raise DiffInputError(f"{side}版本的 {file} 包含实体声明，无法比较") from exc
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DiffInputError(f"{side}版本的 {file} 不是 BPMN 2.0 文件（根元素不是 definitions）")
    return root


def _tracked_elements(root: Element) -> list[tuple[Element, Element]]:
    """(element, parent) for every element compared on its own, in document order; BPMNDI is skipped."""
    found: list[tuple[Element, Element]] = []

    def walk(parent: Element) -> None:
        for child in parent:
            if _namespace(child.tag) == BPMNDI_NS:
                continue
            if _is_tracked(child, parent):
                found.append((child, parent))
            walk(child)

    walk(root)
    return found


def _lanes_of(tracked: list[tuple[Element, Element]]) -> dict[str, str]:
    """node id → id of the lane it sits in. Document order puts nested lanes after their parent,
    so the innermost lane wins."""
    lane_of: dict[str, str] = {}
    for element, _parent in tracked:
        if _local(element.tag) == "lane":
            for ref in element.findall(f"{{{BPMN_NS}}}flowNodeRef"):
                if ref.text and ref.text.strip():
                    lane_of[ref.text.strip()] = element.get("id", "")
    return lane_of


# Attributes whose BPMN default modelers write or leave out at will (bpmn-js drops cancelActivity="true"
# on export): the default value is the same as no attribute.
DEFAULT_VALUES = {"cancelActivity": "true", "isInterrupting": "true", "parallelMultiple": "false",
                  "isForCompensation": "false", "isImmediate": "true", "triggeredByEvent": "false"}


def _add_attributes(facets: dict[str, list[str]], element: Element, path: str) -> None:
    """Well-known attributes get their own label; the rest of an element's attributes stay together
    in one value, because their pairing matters (camunda:in source/target)."""
    rest = []
    for attribute, value in element.attrib.items():
        # Nested parts' ids are regenerated by modelers; xsi:type is boilerplate; and modelers
        # write or drop empty attributes (name="") at will, which means the same as absent.
        if attribute in ("id", XSI_TYPE) or not value.strip() or DEFAULT_VALUES.get(attribute) == value.strip():
            continue
        label = ATTRIBUTE_LABELS.get(attribute) if not path or attribute in NESTED_ATTRIBUTES else None
        if label is not None:
            facets[label].append(value)
        elif not path:
            facets[f"属性 {_qualified(attribute)}"].append(value)
        else:
            rest.append(f"{_qualified(attribute)}={value}")
    text = (element.text or "").strip()
    if path and _local(element.tag) not in TEXT_LABELS and text:
        rest.append(text)
    if rest:
        facets[f"设置 {path}"].append(", ".join(sorted(rest)))


def _fold(facets: dict[str, list[str]], element: Element, path: str) -> None:
    """Fold one nested (not separately compared) element and its children into the owner's facets."""
    local = _local(element.tag)
    if local == "property" and element.get("name") is not None:  # spiffworkflow:property, camunda:property
        property_name = element.get("name", "")
        label = FORM if property_name == "form" else f"扩展属性 {property_name}"
        facets[label].append(element.get("value", (element.text or "").strip()))
        return
    text = (element.text or "").strip()
    if local in TEXT_LABELS and text:
        facets[TEXT_LABELS[local]].append(text)
    if local.endswith("EventDefinition"):
        facets[EVENT_TYPE].append(local)
    _add_attributes(facets, element, path)
    for child in element:
        _fold_child(facets, element, child, path)


def _fold_child(facets: dict[str, list[str]], parent: Element, child: Element, path: str) -> None:
    if not isinstance(child.tag, str) or _is_tracked(child, parent):
        return  # comments / processing instructions; or compared on its own
    if _namespace(child.tag) == BPMN_NS and _local(child.tag) in DERIVED_CHILDREN:
        return
    _fold(facets, child, f"{path}/{_local(child.tag)}" if path else _local(child.tag))


def _signature(element: Element, lane_id: str | None) -> _Element:
    facets: dict[str, list[str]] = defaultdict(list)
    _add_attributes(facets, element, "")
    text = (element.text or "").strip()
    if _local(element.tag) in TEXT_LABELS and text:
        facets[TEXT_LABELS[_local(element.tag)]].append(text)  # textAnnotation's own text, etc.
    for child in element:
        _fold_child(facets, element, child, "")
    if lane_id is not None:
        facets[LANE].append(lane_id)
    # Sorted: the order of extension properties or camunda:in entries carries no meaning.
    return _Element(_local(element.tag), element.get("name") or None,
                    {label: tuple(sorted(values)) for label, values in facets.items()})


def _read_diagram(text: str, file: str, side: str) -> _Diagram:
    root = _parse_xml(text, file, side)
    tracked = _tracked_elements(root)
    lane_of = _lanes_of(tracked)
    elements: dict[str, _Element] = {}
    names: dict[str, str] = {}
    for element, _parent in tracked:
        element_id = element.get("id", "")
        if element_id in elements:
            raise DiffInputError(f"{side}版本的 {file} 中元素 ID「{element_id}」重复")
        elements[element_id] = _signature(element, lane_of.get(element_id))
        if element.get("name"):
            names[element_id] = element.get("name", "")
    return _Diagram(elements, names)


def _shown(label: str, values: tuple[str, ...] | None, names: dict[str, str]) -> str:
    if not values:
        return MISSING
    if label in REFERENCE_LABELS:
        return "；".join(names.get(value, value) for value in values)
    return "；".join(values)


def _is_short(value: str) -> bool:
    return "\n" not in value and len(value) <= SHORT_VALUE


def _detail_key(label: str) -> tuple[int, str]:
    return (DETAIL_ORDER.index(label) if label in DETAIL_ORDER else len(DETAIL_ORDER), label)


def _listed_change(label: str, before: tuple[str, ...], after: tuple[str, ...], names: dict[str, str]) -> str | None:
    """For several values under one label (camunda:in entries ...): which came and which went."""
    added = tuple(v for v in after if v not in before)
    removed = tuple(v for v in before if v not in after)
    parts = [f"{word} {_shown(label, values, names)}" for word, values in (("新增", added), ("删除", removed)) if values]
    text = "，".join(parts)
    return f"{label}：{text}" if text and _is_short(text) else None


def _detail(label: str, before: tuple[str, ...] | None, after: tuple[str, ...] | None,
            old_names: dict[str, str], new_names: dict[str, str]) -> str:
    if before and after and (len(before) > 1 or len(after) > 1):
        listed = _listed_change(label, before, after, {**old_names, **new_names})
        if listed is not None:
            return listed
    shown_before, shown_after = _shown(label, before, old_names), _shown(label, after, new_names)
    if _is_short(shown_before) and _is_short(shown_after):
        return f"{label}：{shown_before} → {shown_after}"
    return f"{label}：已修改"  # scripts and long texts: the line says where, not what


def _changed_details(old: _Element, new: _Element, old_names: dict[str, str], new_names: dict[str, str]) -> list[str]:
    details = [f"{TYPE}：{old.tag} → {new.tag}"] if old.tag != new.tag else []
    for label in sorted(set(old.facets) | set(new.facets), key=_detail_key):
        before, after = old.facets.get(label), new.facets.get(label)
        if before != after:
            details.append(_detail(label, before, after, old_names, new_names))
    return details


def _brief(element: _Element, names: dict[str, str]) -> list[str]:
    """What an added or removed element is, in a few words: where it sits and where it leads."""
    details = []
    facets = element.facets
    if "连线来源" in facets or "连线目标" in facets:
        source = _shown("连线来源", facets.get("连线来源"), names)
        target = _shown("连线目标", facets.get("连线目标"), names)
        details.append(f"连线：{source} → {target}")
    for label in (LANE, FORM, "条件", "附着于", "被调用流程"):
        if label in facets:
            value = _shown(label, facets[label], names)
            details.append(f"{label}：{value}" if _is_short(value) else f"{label}：（内容较长，未列出）")
    return details


def _diff_diagram(file: str, old: _Diagram, new: _Diagram) -> list[ElementChange]:
    changes = []
    for element_id, element in new.elements.items():
        before = old.elements.get(element_id)
        if before is None:
            changes.append(ElementChange(file, element_id, element.name, "added", element.tag,
                                         _brief(element, new.names)))
        elif before != element:
            details = _changed_details(before, element, old.names, new.names)
            changes.append(ElementChange(file, element_id, element.name, "changed", element.tag, details))
    for element_id, element in old.elements.items():
        if element_id not in new.elements:
            changes.append(ElementChange(file, element_id, element.name, "removed", element.tag,
                                         _brief(element, old.names)))
    return changes


EMPTY_DIAGRAM = _Diagram({}, {})


def _diff_diagrams(old: dict[str, str], new: dict[str, str]) -> list[ElementChange]:
    changes: list[ElementChange] = []
    for file in sorted(set(old) | set(new)):
        if not file.endswith(".bpmn"):
            continue
        before = _read_diagram(old[file], file, "旧") if file in old else EMPTY_DIAGRAM
        after = _read_diagram(new[file], file, "新") if file in new else EMPTY_DIAGRAM
        changes.extend(_diff_diagram(file, before, after))
    return sorted(changes, key=lambda c: (c.file, KIND_ORDER[c.kind], c.name or c.element_id, c.element_id))


# ---------------------------------------------------------------- forms


def _is_form(file: str) -> bool:
    return file.startswith("forms/") and file.endswith(".json")


def _form_name(file: str) -> str:
    return file[len("forms/"):-len(".json")]


def _read_form(text: str, file: str, side: str) -> dict:
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise DiffInputError(f"{side}版本的表单 {file} 不是有效的 JSON") from exc
    # A schema that is not an object is unusual but still comparable as "no fields".
    return schema if isinstance(schema, dict) else {"x-content": schema}


def _properties(schema: dict) -> dict[str, dict]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {key: value if isinstance(value, dict) else {} for key, value in properties.items()}


def _required(schema: dict) -> set[str]:
    required = schema.get("required")
    return {str(item) for item in required} if isinstance(required, list) else set()


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _change_line(prefix: str, before: object, after: object) -> str:
    shown_before = MISSING if before is None else _value(before)
    shown_after = MISSING if after is None else _value(after)
    if _is_short(shown_before) and _is_short(shown_after):
        return f"{prefix}：{shown_before} → {shown_after}"
    return f"{prefix}：已修改"


def _field_label(key: str, spec: dict) -> str:
    title = spec.get("title")
    return f"{title}（{key}）" if isinstance(title, str) and title else key


def _option_details(key: str, before: dict, after: dict) -> list[str]:
    old_options = before.get("enum") if isinstance(before.get("enum"), list) else []
    new_options = after.get("enum") if isinstance(after.get("enum"), list) else []
    old_labels = before.get("x-labels") if isinstance(before.get("x-labels"), dict) else {}
    new_labels = after.get("x-labels") if isinstance(after.get("x-labels"), dict) else {}
    details = []
    added = [_value(new_labels.get(o, o)) for o in new_options if o not in old_options]
    removed = [_value(old_labels.get(o, o)) for o in old_options if o not in new_options]
    if added:
        details.append(f"字段 {key} 新增选项：{'、'.join(added)}")
    if removed:
        details.append(f"字段 {key} 删除选项：{'、'.join(removed)}")
    for option in sorted(set(old_labels) & set(new_labels)):
        if old_labels[option] != new_labels[option]:
            details.append(_change_line(f"字段 {key} 选项 {option} 的名称", old_labels[option], new_labels[option]))
    for option in sorted(set(old_labels) ^ set(new_labels)):
        if option in old_options and option in new_options:  # label given or dropped for a kept option
            details.append(_change_line(f"字段 {key} 选项 {option} 的名称", old_labels.get(option), new_labels.get(option)))
    if not details and old_options != new_options and set(old_options) == set(new_options):
        details.append(f"字段 {key} 选项顺序已调整")
    return details


def _field_details(key: str, before: dict, after: dict) -> list[str]:
    details = []
    if before.get("title") != after.get("title"):
        details.append(_change_line(f"字段 {key} 标题", before.get("title"), after.get("title")))
    details.extend(_option_details(key, before, after))
    for setting in sorted((set(before) | set(after)) - {"title", "enum", "x-labels"}):
        if before.get(setting) != after.get(setting):
            details.append(_change_line(f"字段 {key} 的 {setting}", before.get(setting), after.get(setting)))
    return details


def _form_details(old: dict, new: dict) -> list[str]:
    details = []
    if old.get("title") != new.get("title"):
        details.append(_change_line("表单标题", old.get("title"), new.get("title")))
    old_fields, new_fields = _properties(old), _properties(new)
    details += [f"新增字段：{_field_label(k, v)}" for k, v in new_fields.items() if k not in old_fields]
    details += [f"删除字段：{_field_label(k, v)}" for k, v in old_fields.items() if k not in new_fields]
    old_required, new_required = _required(old), _required(new)
    for key, spec in new_fields.items():
        if key not in old_fields:
            continue
        details.extend(_field_details(key, old_fields[key], spec))
        if (key in old_required) != (key in new_required):
            details.append(f"字段 {key}：{'改为必填' if key in new_required else '改为选填'}")
    common_old = [k for k in old_fields if k in new_fields]
    common_new = [k for k in new_fields if k in old_fields]
    if common_old != common_new:  # forms are drawn in property order, so the order is visible
        details.append("字段顺序已调整")
    for setting in sorted((set(old) | set(new)) - {"title", "properties", "required"}):
        if old.get(setting) != new.get(setting):
            details.append(_change_line(f"表单设置 {setting}", old.get(setting), new.get(setting)))
    return details or ["内容已修改"]


def _title(schema: dict) -> str | None:
    title = schema.get("title")
    return title if isinstance(title, str) else None


def _form_differs(before: dict, after: dict) -> bool:
    # dict equality ignores key order, but fields are drawn in property order, so compare it too
    return before != after or list(_properties(before)) != list(_properties(after))


def _diff_forms(old: dict[str, str], new: dict[str, str]) -> list[FormChange]:
    changes = []
    for file in sorted(set(old) | set(new)):
        if not _is_form(file):
            continue
        before = _read_form(old[file], file, "旧") if file in old else None
        after = _read_form(new[file], file, "新") if file in new else None
        if before is None and after is not None:
            fields = "、".join(_field_label(k, v) for k, v in _properties(after).items())
            changes.append(FormChange(file, _form_name(file), _title(after), "added", [f"字段：{fields}"] if fields else []))
        elif after is None and before is not None:
            changes.append(FormChange(file, _form_name(file), _title(before), "removed", []))
        elif before is not None and after is not None and _form_differs(before, after):
            changes.append(FormChange(file, _form_name(file), _title(after), "changed", _form_details(before, after)))
    return sorted(changes, key=lambda c: (KIND_ORDER[c.kind], c.file))


# ---------------------------------------------------------------- public


def diff(old: dict[str, str], new: dict[str, str]) -> DiffResult:
    """Semantic differences from `old` to `new`. DiffInputError if a file in either is malformed."""
    return DiffResult(
        elements=_diff_diagrams(old, new),
        forms=_diff_forms(old, new),
        files_added=sorted(set(new) - set(old)),
        files_removed=sorted(set(old) - set(new)),
    )


def _counts(kinds: list[str]) -> dict[str, int]:
    return {kind: kinds.count(kind) for kind in KIND_ORDER}


def summary(result: DiffResult) -> str:
    """A Chinese one-liner, e.g. "新增 2 个元素，修改 1 个，删除 0 个；表单新增 1 个"."""
    if not result.has_changes:
        return "没有内容变化"
    elements = _counts([c.kind for c in result.elements])
    parts = [f"新增 {elements['added']} 个元素，修改 {elements['changed']} 个，删除 {elements['removed']} 个"]
    forms = _counts([c.kind for c in result.forms])
    words = {"added": "新增", "changed": "修改", "removed": "删除"}
    form_parts = [f"{words[kind]} {count} 个" for kind, count in forms.items() if count]
    if form_parts:
        parts.append("表单" + "，".join(form_parts))
    # Forms are counted above; other files (diagrams) are worth a word when they come or go.
    added = [f for f in result.files_added if not _is_form(f)]
    removed = [f for f in result.files_removed if not _is_form(f)]
    file_parts = [f"{word} {len(files)} 个" for word, files in (("新增", added), ("删除", removed)) if files]
    if file_parts:
        parts.append("文件" + "，".join(file_parts))
    return "；".join(parts)
