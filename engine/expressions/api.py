"""Public entry points: compile once (cached), evaluate many times, validate without raising.

`compile_expression` / `compile_transform` return objects whose `evaluate` /
`execute` run precompiled closures; `check_expression` / `check_transform`
return issues for editors and validation and never raise. This module knows
nothing of YAML, the workflow model or the executor.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.expressions.compiler import Env, ExpressionCompiler, Fn
from engine.expressions.errors import (
    ExpressionError,
    ExpressionIssue,
    ExpressionNote,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
)
from engine.expressions.functions import BUILTIN_FUNCTIONS
from engine.expressions.parsing import SUGGESTION, Mode, Parsed, parse
from engine.expressions.references import Reference, ReferenceCollector, flow_reads
from engine.expressions.transforms import Statement, TransformCompiler, loop_variables

Functions = Mapping[str, Callable[..., Any]]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A value together with the notes evaluation left (null reads, null comparisons)."""

    value: Any
    notes: tuple[ExpressionNote, ...]


def _unexpected(error: BaseException) -> ExpressionRuntimeError:
    if isinstance(error, RecursionError):
        return ExpressionRuntimeError("evaluation nested too deeply", construct="nesting")
    if isinstance(error, MemoryError):
        return ExpressionRuntimeError("evaluation ran out of memory", construct="limit")
    return ExpressionRuntimeError(f"evaluation failed: {type(error).__name__}: {error}")


def _unique(notes: list[ExpressionNote]) -> tuple[ExpressionNote, ...]:
    return tuple(dict.fromkeys(notes))


class CompiledExpression:
    """A compiled condition or value expression; `evaluate` is safe to call concurrently."""

    __slots__ = ("_fn", "names", "reads_all", "text")

    def __init__(self, text: str, fn: Fn, names: frozenset[str], reads_all: bool) -> None:
        self.text = text
        self._fn = fn
        self.names = names
        """Root state keys the expression reads."""
        self.reads_all = reads_all
        """True when it reads the whole state (`ctx` as a value, `locals()`, `ctx[expr]`)."""

    def evaluate(self, state: Mapping[str, Any]) -> Any:
        """The value; raises ExpressionRuntimeError naming what failed."""
        try:
            return self._fn(state, None)
        except ExpressionError:
            raise
        except (Exception, RecursionError, MemoryError) as error:
            raise _unexpected(error) from error

    def evaluate_with_notes(self, state: Mapping[str, Any]) -> Evaluation:
        notes: list[ExpressionNote] = []
        try:
            value = self._fn(state, Env(notes))
        except ExpressionError:
            raise
        except (Exception, RecursionError, MemoryError) as error:
            raise _unexpected(error) from error
        return Evaluation(value, _unique(notes))

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r})"


class CompiledTransform:
    """Compiled transform statements; `execute` returns the top-level keys assigned."""

    __slots__ = ("_run", "reads", "text", "writes")

    def __init__(
        self, text: str, run: Statement, reads: frozenset[str], writes: frozenset[str]
    ) -> None:
        self.text = text
        self._run = run
        self.reads = reads
        """Root keys read before the transform itself assigned them."""
        self.writes = writes
        """Top-level keys the transform may assign."""

    def execute(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """New values of the keys assigned; `state` and its values are never changed."""
        return self._execute(state, None)[0]

    def execute_with_notes(
        self, state: Mapping[str, Any]
    ) -> tuple[dict[str, Any], tuple[ExpressionNote, ...]]:
        notes: list[ExpressionNote] = []
        return self._execute(state, notes)

    def _execute(
        self, state: Mapping[str, Any], notes: list[ExpressionNote] | None
    ) -> tuple[dict[str, Any], tuple[ExpressionNote, ...]]:
        scope = dict(state)
        env = Env(notes)
        try:
            self._run(scope, env)
        except ExpressionError:
            raise
        except (Exception, RecursionError, MemoryError) as error:
            raise _unexpected(error) from error
        return {key: scope[key] for key in env.written}, _unique(notes or [])

    def __repr__(self) -> str:
        return f"CompiledTransform({self.text!r})"


def _all_functions(functions: Functions | None) -> Functions:
    if not functions:
        return BUILTIN_FUNCTIONS
    return {**BUILTIN_FUNCTIONS, **functions}


def _raise_first(parsed: Parsed) -> None:
    error = parsed.first_error()
    if error is None:
        return
    if error.unsupported and error.construct and "not supported" in error.message:
        raise ExpressionSyntaxError(
            f"'{error.construct}' cannot run: it is outside the workflow expression language; "
            f"{SUGGESTION}",
            error.span,
            construct=error.construct,
            unsupported=True,
        )
    raise error


def _build_expression(text: str, functions: Functions | None) -> CompiledExpression:
    parsed = parse(text, "expression")
    _raise_first(parsed)
    assert isinstance(parsed.tree, ast.Expression)
    compiler = ExpressionCompiler(parsed.positions, _all_functions(functions))
    fn = compiler.expr(parsed.tree.body, frozenset())
    collector = ReferenceCollector(parsed.positions)
    collector.expr(parsed.tree.body, frozenset())
    names = frozenset(ref.root for ref in collector.found)
    return CompiledExpression(text, fn, names, collector.reads_all)


def _build_transform(text: str, functions: Functions | None) -> CompiledTransform:
    parsed = parse(text, "transform")
    _raise_first(parsed)
    assert isinstance(parsed.tree, ast.Module)
    loops = loop_variables(parsed.tree)
    compiler = TransformCompiler(parsed.positions, _all_functions(functions), loops)
    run = compiler.block(parsed.tree.body) if parsed.tree.body else _nothing
    collector = ReferenceCollector(parsed.positions, loops)
    collector.statements(parsed.tree.body)
    writes = frozenset(ref.root for ref in collector.found if ref.kind == "write")
    reads = frozenset(flow_reads(parsed.tree.body, parsed.positions, loops))
    return CompiledTransform(text, run, reads, writes)


def _nothing(scope: dict[str, Any], env: Env) -> None:
    return None


@lru_cache(maxsize=4096)
def _cached_expression(text: str, functions: tuple[tuple[str, Any], ...]) -> CompiledExpression:
    return _build_expression(text, dict(functions))


@lru_cache(maxsize=2048)
def _cached_transform(text: str, functions: tuple[tuple[str, Any], ...]) -> CompiledTransform:
    return _build_transform(text, dict(functions))


def _cache_key(functions: Functions | None) -> tuple[tuple[str, Any], ...] | None:
    if not functions:
        return ()
    key = tuple(sorted(functions.items(), key=lambda item: item[0]))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def compile_expression(text: str, *, functions: Functions | None = None) -> CompiledExpression:
    """Compile a condition or value expression; raises ExpressionSyntaxError. Cached by text."""
    key = _cache_key(functions)
    if key is None or not isinstance(text, str):
        return _build_expression(text, functions)
    return _cached_expression(text, key)


def compile_transform(text: str, *, functions: Functions | None = None) -> CompiledTransform:
    """Compile transform statements; raises ExpressionSyntaxError. Cached by text."""
    key = _cache_key(functions)
    if key is None or not isinstance(text, str):
        return _build_transform(text, functions)
    return _cached_transform(text, key)


def _check(text: str, mode: Mode, functions: Iterable[str] | None) -> list[ExpressionIssue]:
    try:
        parsed = parse(text, mode)
    except ExpressionSyntaxError as error:
        return [ExpressionIssue.from_error(error)]
    except Exception as error:  # never raise from validation
        return [ExpressionIssue.from_error(ExpressionSyntaxError(f"cannot parse: {error}"))]
    issues = [ExpressionIssue.from_error(error) for error in parsed.issues]
    if mode == "transform":
        issues.extend(_statements_without_effect(parsed))
    if not parsed.issues:
        try:
            # the cached compile: the run and state-flow analysis reuse this build
            (compile_expression if mode == "expression" else compile_transform)(text)
        except ExpressionSyntaxError as error:
            issues.append(ExpressionIssue.from_error(error))
        except Exception as error:
            issues.append(ExpressionIssue.from_error(ExpressionSyntaxError(f"invalid: {error}")))
    if functions is not None and not any(issue.severity == "error" for issue in issues):
        known = set(functions) | set(BUILTIN_FUNCTIONS) | {"locals"}
        issues.extend(_unknown_functions(parsed, known))
    return issues


def _statements_without_effect(parsed: Parsed) -> list[ExpressionIssue]:
    """Lines such as `merge_results` alone: Victor ignored them, and so does a run."""
    body = getattr(parsed.tree, "body", [])
    if len(body) < 2:
        return []  # a lone name is a registered transform's name, checked by the caller
    found = []
    for statement in body:
        value = statement.value if isinstance(statement, ast.Expr) else None
        if value is not None and not isinstance(value, ast.Call | ast.Constant):
            found.append(
                ExpressionIssue.from_error(
                    ExpressionSyntaxError(
                        "this line has no effect: assign it (key = ...) or call a function",
                        parsed.positions.span(statement),
                        construct="no effect",
                        unsupported=True,
                    )
                )
            )
    return found


def _unknown_functions(parsed: Parsed, known: set[str]) -> list[ExpressionIssue]:
    found = []
    for node in ast.walk(parsed.tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Name) and func.id not in known:
            found.append(
                ExpressionIssue.from_error(
                    ExpressionSyntaxError(
                        f"unknown function '{func.id}': it is not built in and no transform "
                        "function of that name is registered",
                        parsed.positions.span(func),
                        construct="unknown function",
                        unsupported=True,
                    )
                )
            )
    return sorted(found, key=lambda issue: (issue.line, issue.column))


def check_expression(text: str, *, functions: Iterable[str] | None = None) -> list[ExpressionIssue]:
    """Problems of a condition/expression text; never raises.

    Pass `functions` (names of registered functions) to also warn on unknown calls.
    """
    return _check(text, "expression", functions)


def check_transform(text: str, *, functions: Iterable[str] | None = None) -> list[ExpressionIssue]:
    """Problems of a transform text: syntax errors are errors, unsupported constructs warnings."""
    return _check(text, "transform", functions)


def references(text: str) -> list[Reference]:
    """Every state key read or written, with its span; [] when the text does not parse."""
    modes: tuple[Mode, ...] = ("expression", "transform")
    for mode in modes:
        try:
            parsed = parse(text, mode)
        except Exception:
            continue
        if any(not issue.unsupported for issue in parsed.issues):
            return []
        try:
            if isinstance(parsed.tree, ast.Expression):
                collector = ReferenceCollector(parsed.positions)
                collector.expr(parsed.tree.body, frozenset())
            else:
                collector = ReferenceCollector(parsed.positions, loop_variables(parsed.tree))
                collector.statements(getattr(parsed.tree, "body", []))
        except Exception:
            return []
        return sorted(collector.found, key=lambda ref: (ref.line, ref.column))
    return []


def reference_spans(text: str) -> list[tuple[str, str, int, int, int, int]]:
    """State keys read: (root_key, full_path, line, column, end_line, end_column); never raises."""
    return [ref.as_tuple() for ref in references(text) if ref.kind == "read"]


def branch_key(value: Any) -> str:
    """The branch a condition value selects: True -> "true", False -> "false", None -> "none"."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "none"
    return str(value)
