"""The engine's two hottest task queries, walked in one tight loop instead of the library's iterator.

At every step SpiffWorkflow asks its whole task tree, many times over, for the READY tasks
(`Workflow.get_tasks(state=READY)` in `do_engine_steps`) and the WAITING ones
(`update_waiting_tasks`, after every completed task). Its `TaskIterator` keeps a Python list it
pops from the front, resolves children through a property and re-counts depth by walking
parents, once per task visited: that was a quarter of the engine's CPU.

`install()` replaces these two queries with walks that visit the same tasks in the same order
(depth first; children of a task are read when it is reached, so a task an update adds later is
seen exactly when the library would see it), prune the same subtrees (predicted tasks below a
definite query, finished subprocesses) and stop at the same depth (1000). Any other query goes to
the library. The test suite sets `verify` so that every answer is compared with the library's own.
The engine alone in `bench/ticket_loop.py` runs on the same walks, so both sides of that
comparison run the same engine."""

from __future__ import annotations

from collections.abc import Iterator

from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

MAX_DEPTH = 1000  # the library's own limit (TaskIterator's max_depth)

# The test suite turns this on: every walk is then compared with the library's iterator.
verify = False

_library_get_tasks = Workflow.get_tasks


def _lowest_state_descended(state: int) -> int:
    # As TaskIterator: predicted tasks only have predicted children, definite ones no finished ones.
    if state & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if state & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def walk(root: Task, state: int, into_subprocesses: bool) -> Iterator[Task]:
    """The tasks under `root` (itself included) in `state`, depth first. With `into_subprocesses`,
    a task's running subprocess is walked before its children, as BpmnTaskIterator does."""
    lowest = _lowest_state_descended(state)
    subprocesses = root.workflow.top_workflow.subprocesses if into_subprocesses else {}
    stack: list[tuple[Task, int]] = [(root, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        task, depth = pop()
        subprocess = subprocesses.get(task.id)
        if ((task._children or subprocess is not None) and (task._state >= lowest or subprocess is not None)
                and depth < MAX_DEPTH):
            tasks = task.workflow.tasks
            for child_id in reversed(task._children):
                push((tasks.get(child_id), depth + 1))
            # A finished subprocess is not searched for unfinished tasks.
            if subprocess is not None and not (task._state >= TaskState.FINISHED_MASK
                                               and state <= TaskState.FINISHED_MASK):
                push((subprocess.task_tree, depth + 1))
        if task._state & state:
            yield task


def _get_tasks(self: Workflow, first_task: Task | None = None, **kwargs) -> list[Task]:
    if first_task is not None or len(kwargs) != 1 or "state" not in kwargs:
        return _library_get_tasks(self, first_task, **kwargs)
    found = list(walk(self.task_tree, kwargs["state"], into_subprocesses=isinstance(self, BpmnBaseWorkflow)))
    if verify:
        expected = _library_get_tasks(self, **kwargs)
        if [t.id for t in found] != [t.id for t in expected]:
            raise AssertionError(f"task walk differs from the library's: {found} != {expected}")
    return found


def _update_waiting_tasks(self: Workflow) -> None:
    if verify:
        expected = [t.id for t in TaskIterator(self.task_tree, state=TaskState.WAITING)]
        if [t.id for t in walk(self.task_tree, TaskState.WAITING, into_subprocesses=False)] != expected:
            raise AssertionError("waiting-task walk differs from the library's")
    for task in walk(self.task_tree, TaskState.WAITING, into_subprocesses=False):
        task.task_spec._update(task)


def install() -> None:
    Workflow.get_tasks = _get_tasks
    Workflow.update_waiting_tasks = _update_waiting_tasks
