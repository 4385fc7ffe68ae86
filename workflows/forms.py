"""User-task forms: a JSON Schema per form, validated on the server with Chinese messages.

Only the fields a form declares reach the workflow: a posted `redispatch_count` or `archived`
is refused, so nobody can steer the process by adding fields to a request."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))
        self.errors = errors


def _label(schema: dict, field: str) -> str:
    return schema.get("properties", {}).get(field, {}).get("title", field)


def _message(schema: dict, error: ValidationError) -> tuple[str, str]:
    if error.validator == "required":
        field = error.message.split("'")[1]
        return field, f"{_label(schema, field)}为必填项"
    field = str(error.absolute_path[0]) if error.absolute_path else "_form"
    label = _label(schema, field)
    value = error.validator_value
    if error.validator == "minLength":
        return field, f"{label}至少 {value} 个字" if value > 1 else f"{label}不能为空"
    messages = {
        "enum": f"{label}的取值无效",
        "type": f"{label}格式不正确",
        "maxLength": f"{label}不能超过 {value} 个字",
        "minimum": f"{label}不能小于 {value}",
        "maximum": f"{label}不能大于 {value}",
        "pattern": f"{label}格式不正确",
        "const": f"{label}的取值无效",
        "additionalProperties": "表单包含未定义的字段",
    }
    return field, messages.get(str(error.validator), f"{label}填写有误")


_validators: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict) -> Draft202012Validator:
    # Schemas live as long as their parsed process version; one validator each instead of one per step.
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_validators) > 512:
            _validators.clear()
        hit = _validators[id(schema)] = (schema, Draft202012Validator(schema))
    return hit[1]


def validate(schema: dict, data: dict) -> dict:
    """The submitted values the form declares, checked against the schema; FormInvalid otherwise."""
    declared = set(schema.get("properties", {}))
    unknown = sorted(set(data) - declared)
    if unknown:
        raise FormInvalid({name: "表单未定义此字段" for name in unknown})
    errors: dict[str, str] = {}
    for error in sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        field, message = _message(schema, error)
        errors.setdefault(field, message)
    if errors:
        raise FormInvalid(errors)
    return dict(data)
