"""Sandboxed, time-limited script engine for BPMN script tasks, gateway conditions and timer expressions."""

from __future__ import annotations

import ast
import copy
import operator
import re
import sys
import time
import types
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from RestrictedPython import Guards, RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

# Spiff looks for frames named '<string>' to report the failing script line, so the sandbox keeps that filename.
SCRIPT_FILENAME = "<string>"
# Harmful builtins refused by name at compile time, so check_script catches them before a diagram is published.
FORBIDDEN_NAMES = frozenset({"open", "exec", "eval", "compile", "globals", "locals", "vars", "breakpoint", "input", "help"})
GUARD_NAME = "_script_guard_"


class ScriptRefused(Exception):
    """The script or expression uses something the sandbox forbids."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = list(details or [])


class ScriptTimeout(Exception):
    """The script ran past its time limit."""


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus: no imports, classes or forbidden builtins; except/finally re-check the clock."""

    def _refuse(self, node: ast.stmt) -> ast.AST:
        self.error(node, f"{type(node).__name__} statements are not allowed.")
        return node

    # Classes could define __exit__ and swallow ScriptTimeout; scripts have no need for them.
    visit_Import = visit_ImportFrom = visit_ClassDef = _refuse

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in FORBIDDEN_NAMES:
            self.error(node, f'"{node.id}" is a forbidden name.')
        return super().visit_Name(node)

    # A trace function that raises is switched off by CPython, so a script catching ScriptTimeout (or a RecursionError
    # raised inside the tracer) would run on unbounded; every handler and finally block first calls the guard.
    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _guard_stmt(node, call=True))
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        # CPython 3.11 emits no 'line' event for a loop that jumps to itself (`while True: pass`); loading a name first
        # gives every iteration a backward jump the tracer sees, for the price of LOAD_GLOBAL + POP_TOP.
        node = super().visit_While(node)
        node.body.insert(0, _guard_stmt(node, call=False))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, _guard_stmt(node.finalbody[0], call=True))
        return node


def _guard_stmt(where: ast.AST, call: bool) -> ast.stmt:
    """`_script_guard_()` (call) or a bare `_script_guard_` load, placed at `where`'s line."""
    name = ast.Name(GUARD_NAME, ast.Load())
    statement = ast.Expr(ast.Call(name, [], []) if call else name)
    return ast.fix_missing_locations(ast.copy_location(statement, where))


_TRANSLATIONS: list[tuple[str, str]] = [
    (r"Import(From)? statements", "脚本不允许使用 import 语句"),
    (r'"(?P<n>\w+)" is an invalid attribute name because it starts with "_"', "脚本不允许访问以下划线开头的属性 {n}"),
    (r'"(?P<n>\w+)" is an invalid variable name because it starts with "_"', "脚本不允许使用以下划线开头的名称 {n}"),
    (r'"(?P<n>\w+)" is a restricted name', "脚本不允许访问属性 {n}"),
    (r"Exec calls are not allowed", "脚本不允许使用 exec"),
    (r"Eval calls are not allowed", "脚本不允许使用 eval"),
    (r'"(?P<n>\w+)" is a (?:forbidden|reserved) name', "脚本不允许使用 {n}"),
    (r"ClassDef statements", "脚本不允许定义 class"),
    (r"Augmented assignment", "脚本不支持对属性或元素使用 += 这类增量赋值，请改写为 d[k] = d[k] + 1"),
    (r"(?P<n>\w+) statements are not allowed", "脚本不允许使用 {n} 语句"),
    (r"SyntaxError: (?P<n>.*) at statement", "脚本语法错误：{n}"),
]


def _translate(error: str) -> str:
    """Turn one RestrictedPython error line ('Line 3: ...') into a Chinese message."""
    match = re.match(r"Line (\d+|None): (.*)", error, re.S)
    line, text = match.groups() if match else ("None", error)
    message = f"脚本包含不允许的写法：{text}"
    for pattern, template in _TRANSLATIONS:
        if found := re.search(pattern, text):
            message = template.format(**found.groupdict())
            break
    return message if line == "None" else f"第 {line} 行：{message}"


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> tuple[types.CodeType | None, frozenset[types.CodeType], tuple[str, ...]]:
    """Compile once per (source, mode): the code, every code object inside it (to know which frames to trace), errors."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename=SCRIPT_FILENAME, policy=_Policy)
    codes: set[types.CodeType] = set()
    pending = [result.code] if result.code else []
    while pending:
        code = pending.pop()
        codes.add(code)
        pending.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return result.code, frozenset(codes), tuple(result.errors)


def check_script(source: str, mode: str = "exec") -> list[str]:
    """Compile only; return the Chinese problems found ([] when the script is acceptable)."""
    return list(dict.fromkeys(_translate(error) for error in _compile(source, mode)[2]))


def _compiled(source: str, mode: str) -> tuple[types.CodeType, frozenset[types.CodeType]]:
    code, codes, errors = _compile(source, mode)
    if code is None:
        raise ScriptRefused("；".join(check_script(source, mode)), list(errors))
    return code, codes


class _Deadline:
    """Per-run trace functions: only frames running the script's own code are traced, and each line checks the clock."""

    def __init__(self, limit: float, codes: frozenset[types.CodeType]) -> None:
        self.limit, self.codes, self.deadline = limit, codes, time.monotonic() + limit

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptTimeout(f"脚本运行超过 {self.limit:g} 秒，已被终止")

    def global_trace(self, frame: types.FrameType, event: str, arg: Any) -> Callable | None:
        if frame.f_code not in self.codes:
            return None  # library and helper code runs without line tracing
        self.check()
        return self.local_trace

    def local_trace(self, frame: types.FrameType, event: str, arg: Any) -> Callable | None:
        if event == "line":
            self.check()
        return self.local_trace

    def guard(self) -> None:
        """Called first in every except/finally block: re-raise after the deadline, re-arm tracing if it was switched off."""
        self.check()
        if sys.gettrace() != self.global_trace:
            frame = sys._getframe(1)
            while frame is not None and frame.f_code in self.codes:
                frame.f_trace = self.local_trace
                frame = frame.f_back
            sys.settrace(self.global_trace)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv, "//=": operator.ifloordiv,
    "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand,
    "|=": operator.ior, "^=": operator.ixor, "@=": operator.imatmul,
}


def _guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """The getattr() builtin scripts see: names are checked at run time, as the compiler cannot see them."""
    if isinstance(name, str) and (name.startswith("_") or name in INSPECT_ATTRIBUTES):
        kind = "以下划线开头的属性" if name.startswith("_") else "属性"
        raise ScriptRefused(f"脚本不允许访问{kind} {name}", [f"getattr(..., {name!r})"])
    return Guards.safer_getattr(obj, name, *default) if default else Guards.safer_getattr_raise(obj, name)


# Builtins plus the hooks RestrictedPython's compiled code calls (_getattr_, _write_, ...); shared, never mutated.
_BUILTINS: dict[str, Any] = {
    **Guards.safe_builtins,
    **{f.__name__: f for f in (len, min, max, sum, sorted, abs, round, any, all, enumerate, range, zip,
                               dict, list, set, tuple, str, int, float, bool, isinstance)},
    "getattr": _guarded_getattr, "_getattr_": Guards.safer_getattr, "_getitem_": operator.getitem, "_getiter_": iter,
    "_iter_unpack_sequence_": Guards.guarded_iter_unpack_sequence, "_unpack_sequence_": Guards.guarded_unpack_sequence,
    "_write_": Guards.full_write_guard,  # item assignment on plain dicts/lists only
    "_inplacevar_": lambda op, target, value: _INPLACE[op](target, value),
    "_print_": PrintCollector, "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
}


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment's contract (task data in, plain data out, helpers removed), sandboxed and time-limited."""

    def __init__(self, helpers: dict[str, Callable] | None = None, time_limit: float = 1.0) -> None:
        if time_limit <= 0:
            raise ValueError("time_limit must be positive")
        super().__init__({"__builtins__": _BUILTINS, "datetime": datetime, "timedelta": timedelta, **(helpers or {})})
        self.time_limit = time_limit

    def _run(self, code: types.CodeType, codes: frozenset[types.CodeType], namespace: dict[str, Any]) -> Any:
        deadline = _Deadline(self.time_limit, codes)
        namespace[GUARD_NAME] = deadline.guard  # callable, so the cleanup drops it from the task data
        previous = sys.gettrace()
        sys.settrace(deadline.global_trace)
        try:
            return eval(code, namespace)  # noqa: S307 - code was compiled by RestrictedPython; eval also runs exec-mode code
        finally:
            sys.settrace(previous)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code, codes = _compiled(expression, "eval")
        my_globals = copy.copy(self.globals)  # else we pollute all later evals
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        return self._run(code, codes, my_globals)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code, codes = _compiled(script, "exec")
        my_globals = copy.copy(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        context.update(my_globals)
        try:
            self._run(code, codes, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


class _RestrictedScriptEngine(PythonScriptEngine):
    """Spiff's evaluate() wraps errors as "Error evaluating expression ..." only; keep our Chinese message in str()."""

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as err:
            if isinstance(err.__context__, ScriptRefused | ScriptTimeout):
                err.add_note(str(err.__context__))
            raise


def make_script_engine(helpers: dict[str, Callable] | None = None, time_limit: float = 1.0) -> PythonScriptEngine:
    """A Spiff script engine whose scripts and expressions run sandboxed and time-limited."""
    return _RestrictedScriptEngine(environment=RestrictedEnvironment(helpers, time_limit))
