"""Task forms from their JSON Schema: turn posted text into typed values, and describe the fields
for the template. The engine validates; this only reads the browser's strings faithfully."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from app.admin.org_services import department_choices

TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


def _types(prop: dict) -> set[str]:
    kind = prop.get("type", "string")
    return set(kind) if isinstance(kind, list) else {kind}


def coerce(schema: dict, form: MultiDict) -> dict:
    """Posted strings → typed values; empty fields are left out (the schema says if required).
    A value that does not parse is passed on as text so that validation names the field."""
    values: dict = {}
    for name, prop in schema.get("properties", {}).items():
        raw = form.get(name)
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip() if prop.get("x-widget") != "textarea" else raw.strip("\r\n ")
        kinds = _types(prop)
        if "boolean" in kinds:
            values[name] = True if raw.lower() in TRUE else False if raw.lower() in FALSE else raw
        elif "integer" in kinds:
            values[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            values[name] = raw
    return values


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text, textarea, select, radio, boolean, number, department
    required: bool
    choices: list[tuple[str, str]]
    value: object
    error: str | None
    when: dict | None = None  # shown only while another field has this value (x-when)


def fields(schema: dict, values: dict, errors: dict[str, str]) -> list[Field]:
    required = set(schema.get("required", []))
    result = []
    for name, prop in schema.get("properties", {}).items():
        widget = prop.get("x-widget")
        choices: list[tuple[str, str]] = []
        if widget == "department":
            choices = [(str(i), label) for i, label in department_choices()]
        elif "enum" in prop:
            labels = prop.get("x-labels", {})
            choices = [(v, labels.get(v, v)) for v in prop["enum"]]
            widget = "radio" if len(choices) <= 4 else "select"
        elif "boolean" in _types(prop):
            widget = "boolean"
        elif "integer" in _types(prop):
            widget = "number"
        result.append(Field(name, prop.get("title", name), widget or "text", name in required, choices,
                            values.get(name), errors.get(name), prop.get("x-when")))
    return result


# Labels for data that comes from no form: notes, attachments, messages, timers.
COMMON_LABELS = {"text": "内容", "filename": "文件名", "sha256": "校验值（SHA-256）", "size": "大小（字节）",
                 "reason": "原因", "due_at": "时限", "message_id": "消息编号", "satisfaction": "满意度",
                 "source": "来源"}


def labelled(schema: dict, data: dict) -> list[tuple[str, str]]:
    """A step's data as (Chinese label, readable value) pairs, for timelines."""
    props = schema.get("properties", {}) if schema else {}
    rows = []
    for name, value in data.items():
        prop = props.get(name, {})
        if isinstance(value, bool):
            text = "是" if value else "否"
        else:
            text = prop.get("x-labels", {}).get(value, value) if isinstance(value, str) else value
        if prop.get("x-widget") == "department" and value:
            from app.extensions import db
            from app.models import Department

            dept = db.session.get(Department, value)
            text = dept.name if dept else value
        rows.append((prop.get("title", COMMON_LABELS.get(name, name)), str(text)))
    return rows
