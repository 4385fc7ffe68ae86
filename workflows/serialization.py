"""Workflow state to and from the database: the serializer's dict without the spec (stored once
per version), as compressed JSON."""

from __future__ import annotations

import json
import zlib

from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_FORMAT
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from workflows.specs import ParsedVersion

# The library's format stamp plus the exact library version we pinned: a state written by
# another combination is refused rather than misread.
SERIALIZER_VERSION = f"spiff-3.2.0/{SERIALIZER_FORMAT}"

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# The serialized specs of each parsed version, as JSON text: restoring consumes (pops from) the
# dicts it is given, so every load needs fresh ones.
_spec_json: dict[int, str] = {}


def _specs_as_dicts(parsed: ParsedVersion) -> tuple[dict, dict]:
    key = id(parsed)
    if key not in _spec_json:
        _spec_json[key] = json.dumps([
            _serializer.registry.convert(parsed.spec),
            {name: _serializer.registry.convert(spec) for name, spec in parsed.subprocess_specs.items()},
        ])
    spec, subprocess_specs = json.loads(_spec_json[key])
    return spec, subprocess_specs


def dump(workflow: BpmnWorkflow) -> bytes:
    state = _serializer.to_dict(workflow)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), level=6)


def load(blob: bytes, parsed: ParsedVersion, stored_version: str) -> BpmnWorkflow:
    if stored_version != SERIALIZER_VERSION:
        raise RuntimeError(f"流程状态格式 {stored_version} 与当前引擎 {SERIALIZER_VERSION} 不一致，需要迁移")
    state = json.loads(zlib.decompress(blob))
    spec, subprocess_specs = _specs_as_dicts(parsed)
    state["spec"] = spec
    state["subprocess_specs"] = subprocess_specs
    return _serializer.from_dict(state)
