"""Workflow state to and from the database: the serializer's dict without the spec (stored once
per version, parsed once per process), as compressed JSON.

States are written as LZ4 frames: compressing a ticket's 20 KB of JSON takes a fifth of zlib's
time, and a step writes one. States written before with zlib still load (`load` tells the two
apart by the frame's magic number)."""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from uuid import UUID

import lz4.frame
import orjson
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_FORMAT
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from workflows.specs import ParsedVersion

# The library's format stamp plus the exact library version we pinned: a state written by
# another combination is refused rather than misread.
SERIALIZER_VERSION = f"spiff-3.2.0/{SERIALIZER_FORMAT}"

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# The library's own workflow converter; we call it with spec objects we already hold, instead of
# letting it rebuild the whole spec from a dict on every load (most of a load's cost).
_converter = _serializer.registry.convert_from_dict["BpmnWorkflow"].args[0].__self__


def dump(workflow: BpmnWorkflow) -> bytes:
    """The state as compressed JSON. The JSON of tasks that cannot have changed (`_reuse_key`) is
    kept on the live workflow and reused by the next dump: converting the ~40 tasks of a ticket
    one by one was most of a step's cost. `full_dump` is the library's own conversion;
    the tests check that both give the same state."""
    text = _workflow_json(workflow)
    if verify_dumps:
        expected = json.loads(_LIBRARY_JSON.encode(_to_dict(workflow)))
        if json.loads(text) != expected:
            raise AssertionError("incremental state dump differs from the library's own conversion")
    return _compress(text.encode())


def _compress(data: bytes) -> bytes:
    return lz4.frame.compress(data)


_LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"


def _decompress(blob: bytes) -> bytes:
    if blob[:4] == _LZ4_FRAME_MAGIC:
        return lz4.frame.decompress(blob)
    return zlib.decompress(blob)


# The test suite turns this on: every dump is then compared with the library's own conversion.
verify_dumps = False


def full_dump(workflow: BpmnWorkflow) -> bytes:
    return _compress(_LIBRARY_JSON.encode(_to_dict(workflow)).encode())


def _to_dict(workflow: BpmnWorkflow) -> dict:
    # BpmnWorkflowConverter.to_dict minus the two spec entries, which would be converted only to
    # be thrown away.
    state = super(type(_converter), _converter).to_dict(workflow)
    state["subprocesses"] = _converter.mapping_to_dict(workflow.subprocesses)
    state["bpmn_events"] = _serializer.registry.convert(workflow.bpmn_events)
    return state


_registry = _serializer.registry
# The library's own JSON encoder (what `serialize_json` uses): task data is written raw and the
# encoder turns what JSON lacks into the registry's typed dicts.
_LIBRARY_JSON = _serializer._encoder_cls(separators=(",", ":"))
_CACHE_ATTR = "_hotline_task_json"


_PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE


def _reuse_key(task) -> tuple | None:
    """When two dumps see the same key, the task's JSON is the same: a finished task never
    changes again; a predicted task with no data of its own is written as the keys it lacks
    from its parent's data, and data only ever grows by keys. Ready and waiting tasks (whose
    data or timer values change in place) are always converted afresh."""
    if task.state & TaskState.FINISHED_MASK:
        return (task.state, task.last_state_change, len(task._children))
    if task.state & _PREDICTED and not task.data and not task.internal_data:
        parent = task.parent
        parent_key = (parent.state, parent.last_state_change, len(parent.data)) if parent is not None else None
        return (task.state, task.last_state_change, len(task._children), task.triggered, parent_key)
    return None


class UnsavableValue(TypeError):
    """Task data holds a value the state cannot keep (a BPMN script stored a `date`, say)."""

    def __init__(self, value) -> None:
        super().__init__(f"cannot keep a {type(value).__name__} in a workflow state")
        self.type_name = type(value).__name__


def _library_default(value):
    """What JSON lacks, written by the library's own encoder (SpiffWorkflow's `create_encoder`):
    a registered type (datetime, timedelta) as the typed dict that `load` restores, a callable
    as null, a set as a list. BPMN scripts are given `datetime` and `timedelta`, so task data can
    hold them; written as bare strings they would come back as strings after a restart."""
    try:
        return _LIBRARY_JSON.default(value)
    except TypeError as exc:
        raise UnsavableValue(value) from exc


_FALLBACK_JSON = json.JSONEncoder(separators=(",", ":"), default=_library_default)
# orjson writes datetimes itself unless told to pass them on; it has no such switch for UUIDs,
# which no form, message or script (it cannot import `uuid`) can put into task data.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _encode(value) -> str:
    """JSON text as the library's encoder writes it, by orjson, several times faster: a step's
    dump encodes a dozen task dicts. What orjson refuses (an integer beyond 64 bits in task data)
    goes to `json` with the same rules."""
    try:
        return orjson.dumps(value, default=_library_default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError as exc:
        if isinstance(exc.__cause__, UnsavableValue):
            raise exc.__cause__ from None
        return _FALLBACK_JSON.encode(value)


def _tasks_json(workflow, cache: dict, kept: dict) -> str:
    parts = []
    for task_id, task in workflow.tasks.items():
        key = _reuse_key(task)
        hit = cache.get(task_id)
        if key is not None and hit is not None and hit[0] == key:
            part = hit[1]
        else:
            part = f'"{task_id}":{_encode(_registry.convert(task))}'
        if key is not None:
            kept[task_id] = (key, part)
        parts.append(part)
    return "{" + ",".join(parts) + "}"


def _fields(workflow) -> dict:
    # WorkflowConverter.to_dict without the tasks, which _tasks_json writes.
    return {"data": _registry.convert(_registry.clean(workflow.data)), "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success, "completed": workflow.completed, "root": str(workflow.task_tree.id)}


def _with_tasks(fields: dict, tasks: str) -> str:
    head = _encode(fields)
    return f'{head[:-1]},"tasks":{tasks}}}'


def _workflow_json(workflow: BpmnWorkflow) -> str:
    cache = getattr(workflow, _CACHE_ATTR, None) or {}
    kept: dict = {}
    subprocesses = []
    for task_id, sub in workflow.subprocesses.items():
        fields = _fields(sub)
        fields.update(parent_task_id=str(sub.parent_task_id), spec=sub.spec.name,
                      typename=_registry.typenames[type(sub)])
        subprocesses.append(f'"{task_id}":' + _with_tasks(fields, _tasks_json(sub, cache, kept)))
    fields = _fields(workflow)
    fields["bpmn_events"] = _registry.convert(workflow.bpmn_events)
    text = _with_tasks(fields, _tasks_json(workflow, cache, kept))
    setattr(workflow, _CACHE_ATTR, kept)  # tasks of pruned rounds drop out here
    return f'{text[:-1]},"subprocesses":{{{",".join(subprocesses)}}}}}'


def load(blob: bytes, parsed: ParsedVersion, stored_version: str) -> BpmnWorkflow:
    if stored_version != SERIALIZER_VERSION:
        raise RuntimeError(f"流程状态格式 {stored_version} 与当前引擎 {SERIALIZER_VERSION} 不一致，需要迁移")
    state = json.loads(_decompress(bytes(blob)))
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
