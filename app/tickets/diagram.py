"""The ticket's process diagram and where the ticket went in it: done, current and fired elements."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

from defusedxml import ElementTree
from flask import abort
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, DeliveredMessage, OpenTask, ProcessInstance, ProcessVersion, Ticket
from workflows import specs

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# Elements that wait for a person; everything else (events, gateways, scripts, call activities) the
# engine passes through on its own, so a step between two audited steps must have run.
WAITING = {"userTask", "manualTask", "receiveTask"}
NOT_NODES = {"laneSet", "sequenceFlow", "textAnnotation", "association", "dataObject", "dataObjectReference",
             "dataStoreReference", "extensionElements", "documentation", "ioSpecification"}


@dataclass
class Graph:
    """The flow of every process in a version, the call activities joined to the processes they call."""

    texts: dict[str, str]  # process id → text of the .bpmn file that holds it (with a layout)
    kind: dict[str, str] = field(default_factory=dict)  # node id → tag
    process_of: dict[str, str] = field(default_factory=dict)
    succ: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)  # node → [(flow id, node)]
    host: dict[str, str] = field(default_factory=dict)  # boundary event → the activity it sits on
    catchers: dict[str, list[str]] = field(default_factory=dict)  # message name → boundary events
    called: dict[str, str] = field(default_factory=dict)  # call activity → process id
    exits: dict[str, list[str]] = field(default_factory=dict)  # process id → end events that finish it

    def passes(self, node: str) -> bool:
        return self.kind.get(node) not in WAITING and node not in self.host


_graphs: dict[str, Graph] = {}


def _drawable(name: str, text: str) -> str:
    """Versions published before the diagrams had a layout get the shipped layout, if the elements match."""
    if "BPMNDiagram" in text:
        return text
    bundled = specs.bundled_files().get(name)
    if bundled and "BPMNDiagram" in bundled and _ids(bundled) == _ids(text):
        return bundled
    return text


def _ids(text: str) -> set[str]:
    root = ElementTree.fromstring(text.encode("utf-8"))
    return {el.get("id") for process in root.iter(f"{BPMN}process") for el in process.iter() if el.get("id")}


def _graph(version: ProcessVersion) -> Graph:
    graph = _graphs.get(version.content_hash)  # a version's files never change
    if graph is not None:
        return graph
    graph = Graph(texts={})
    for name, text in json.loads(version.files_json).items():
        if name.endswith(".bpmn"):
            root = ElementTree.fromstring(text.encode("utf-8"))
            messages = {m.get("id"): m.get("name") for m in root.iter(f"{BPMN}message")}
            for process in root.iter(f"{BPMN}process"):
                graph.texts[process.get("id")] = _drawable(name, text)
                _add_process(graph, process, messages)
    for activity, pid in graph.called.items():
        starts = [n for n, k in graph.kind.items() if k == "startEvent" and graph.process_of[n] == pid]
        graph.succ.setdefault(activity, []).extend((None, start) for start in starts)
        for end in graph.exits.get(pid, []):
            graph.succ.setdefault(end, []).append((None, activity))
    _graphs[version.content_hash] = graph
    return graph


def _add_process(graph: Graph, process, messages: dict[str, str]) -> None:
    pid = process.get("id")
    flows = []
    for el in process:
        tag, node = el.tag.removeprefix(BPMN), el.get("id")
        if tag == "sequenceFlow":
            flows.append((node, el.get("sourceRef"), el.get("targetRef")))
        elif tag not in NOT_NODES and node:
            graph.kind[node], graph.process_of[node] = tag, pid
            if tag == "boundaryEvent":
                graph.host[node] = el.get("attachedToRef")
                for definition in el.iter(f"{BPMN}messageEventDefinition"):
                    message = messages.get(definition.get("messageRef"), definition.get("messageRef"))
                    graph.catchers.setdefault(message, []).append(node)
            elif tag == "callActivity":
                graph.called[node] = el.get("calledElement")
    for flow, source, target in flows:
        graph.succ.setdefault(source, []).append((flow, target))
    side_ends = {target for _flow, source, target in flows if source in graph.host}
    # An end reached from a boundary event closes a side branch, not the process.
    graph.exits[pid] = [n for n, k in graph.kind.items() if k == "endEvent" and graph.process_of[n] == pid
                        and n not in side_ends]


def _path(graph: Graph, start: str, goal: str) -> list[str] | None:
    """The shortest way from one audited step to the next through elements that run on their own: the ids of
    the elements and flows in between. A message boundary event is reached through the activity it sits on."""
    goals = {goal, graph.host.get(goal)} - {None}
    previous: dict[str, tuple[str, str | None]] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for flow, nxt in graph.succ.get(node, ()):
            if nxt in goals:
                ids = [flow] + ([nxt] if nxt != goal else [])
                while node != start:
                    ids.append(node)
                    node, flow = previous[node]
                    ids.append(flow)
                return [i for i in ids if i]
            if nxt not in previous and nxt != start and graph.passes(nxt):
                previous[nxt] = (node, flow)
                queue.append(nxt)
    return None


def diagram_state(ticket: Ticket) -> dict:
    """The ticket's diagrams (main process and handling round) with the ids to mark: `completed` (done, including
    the automatic steps and flows between audited steps), `active` (open tasks; a call activity while its process
    has one) and `fired` (timer boundary events that went off)."""
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id)) or abort(404)
    graph = _graph(db.session.get(ProcessVersion, instance.version_id))
    main = specs.TICKET_PROCESS
    handling = next((pid for activity, pid in graph.called.items() if graph.process_of[activity] == main),
                    "ticket_handling")
    active = set(db.session.scalars(select(OpenTask.task_name).where(OpenTask.ticket_id == ticket.id)))
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.seq))

    completed: set[str] = set()
    fired: list[str] = []
    # The steps in the order they happened, each joined to the one before by the elements the engine ran.
    steps = [n for n, k in graph.kind.items() if k == "startEvent" and graph.process_of[n] == main][:1]
    for entry in entries:
        if entry.action in ("ticket.intake", "task.complete") and entry.task_name:
            completed.add(entry.task_name)
            steps.append(entry.task_name)
        elif entry.action == "timer.fire" and entry.task_name:
            fired.append(entry.task_name)
            completed.update(i for flow, end in graph.succ.get(entry.task_name, ()) for i in (flow, end))
        elif entry.action == "message.deliver" and _delivered(instance.id, entry):
            catchers = graph.catchers.get(entry.task_name, [])
            steps += [b for b in catchers if steps and _path(graph, steps[-1], b) is not None][:1] or catchers[:1]
        elif entry.action == "ticket.cancel":
            break
    ends = graph.exits.get(main, []) if ticket.status == "archived" else []
    for before, after in zip(steps, steps[1:], strict=False):
        completed.update(_path(graph, before, after) or ())
    for goal in (sorted(active) + ends) if steps else []:
        completed.update(_path(graph, steps[-1], goal) or ())
    completed.update(steps + ends)

    for activity, pid in graph.called.items():
        completed.discard(activity)  # a call activity is done when its process ended, not when passed into
        if any(graph.process_of.get(n) == pid for n in active):
            active.add(activity)
        elif any(end in completed for end in graph.exits.get(pid, [])):
            completed.add(activity)
    return {"xml": graph.texts.get(main), "subprocess_xml": graph.texts.get(handling),
            "completed": sorted(completed - active), "active": sorted(active), "fired": sorted(set(fired))}


def _delivered(instance_id: int, entry: AuditEntry) -> bool:
    """Whether the process took the message (it may have arrived when nothing waited for it)."""
    message_id = json.loads(entry.data_json or "{}").get("message_id")
    outcome = db.session.scalar(select(DeliveredMessage.outcome).where(DeliveredMessage.instance_id == instance_id,
                                                                       DeliveredMessage.message_id == message_id))
    return outcome == "delivered"
