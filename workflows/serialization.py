"""Workflow state to and from the database: the serializer's dict without the spec (stored once
per version, parsed once per process), as compressed JSON."""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_FORMAT
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from workflows.specs import ParsedVersion

# The library's format stamp plus the exact library version we pinned: a state written by
# another combination is refused rather than misread.
SERIALIZER_VERSION = f"spiff-3.2.0/{SERIALIZER_FORMAT}"

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# The library's own workflow converter; we call it with spec objects we already hold, instead of
# letting it rebuild the whole spec from a dict on every load (most of a load's cost).
_converter = _serializer.registry.convert_from_dict["BpmnWorkflow"].args[0].__self__


def dump(workflow: BpmnWorkflow) -> bytes:
    state = _to_dict(workflow)
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), level=1)


def _to_dict(workflow: BpmnWorkflow) -> dict:
    # BpmnWorkflowConverter.to_dict minus the two spec entries, which would be converted only to
    # be thrown away.
    state = super(type(_converter), _converter).to_dict(workflow)
    state["subprocesses"] = _converter.mapping_to_dict(workflow.subprocesses)
    state["bpmn_events"] = _serializer.registry.convert(workflow.bpmn_events)
    return state


def load(blob: bytes, parsed: ParsedVersion, stored_version: str) -> BpmnWorkflow:
    if stored_version != SERIALIZER_VERSION:
        raise RuntimeError(f"流程状态格式 {stored_version} 与当前引擎 {SERIALIZER_VERSION} 不一致，需要迁移")
    state = json.loads(zlib.decompress(blob))
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, deserializing=True)
    workflow.tasks = _converter.mapping_from_dict(state["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(state["root"]))
    _converter.set_default_attributes(workflow, state)
    _converter.subprocesses_from_dict(state["subprocesses"], workflow)
    workflow.bpmn_events = _serializer.registry.restore(state.pop("bpmn_events", []))
    return workflow


class LiveWorkflows:
    """Workflows this process used last, keyed by instance id and the row's lock version.

    The lock version changes with every committed step, so a cached workflow whose version still
    matches the row (read under the row lock) is exactly the stored state and needs no
    deserializing. Entries are taken out while a step runs and put back only after it commits,
    so a failed step never leaves a half-changed workflow behind."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()

    def take(self, instance_id: int, lock_version: int) -> BpmnWorkflow | None:
        item = self._items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == lock_version else None

    def put(self, instance_id: int, lock_version: int, workflow: BpmnWorkflow) -> None:
        self._items[instance_id] = (lock_version, workflow)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


live = LiveWorkflows()
