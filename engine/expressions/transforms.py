"""Compiles transform statements (assignments, if/elif/else, for) into closures.

A transform runs on a shallow copy of the state: assignments write top-level
keys of that copy, and the keys assigned are the result. State values are
shared between snapshots, so nothing read from the state is ever changed in
place: `x.append(...)`, `x.k = v` and `x[0] += 1` first copy each container
on the path that the transform does not already own (copy-on-write).
Loop variables are local to the transform and never written to the state.
This module knows nothing of YAML, the workflow model or the executor.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from engine.expressions.compiler import (
    _BINARY,
    MISSING,
    Env,
    ExpressionCompiler,
    Fn,
    binding_names,
    type_name,
)
from engine.expressions.errors import ExpressionRuntimeError, ExpressionSyntaxError, Span
from engine.expressions.methods import call_mutating_method

Statement = Callable[[dict[str, Any], Env], None]
KeyStep = tuple[Fn, ast.expr]


class TransformCompiler(ExpressionCompiler):
    """Adds statements and copy-on-write mutations to the expression compiler."""

    def block(self, statements: list[ast.stmt]) -> Statement:
        compiled = [self.statement(statement) for statement in statements]
        if len(compiled) == 1:
            return compiled[0]

        def run(s: dict[str, Any], e: Env) -> None:
            for statement in compiled:
                statement(s, e)

        return run

    def statement(self, node: ast.stmt) -> Statement:
        if isinstance(node, ast.Assign):
            return self._assign(node)
        if isinstance(node, ast.AugAssign):
            return self._augmented(node)
        if isinstance(node, ast.If):
            return self._if(node)
        if isinstance(node, ast.For):
            return self._for(node)
        if isinstance(node, ast.Expr):
            value = self.expr(node.value, frozenset())

            def evaluate(s: dict[str, Any], e: Env) -> None:
                value(s, e)

            return evaluate
        if isinstance(node, ast.Pass):
            return lambda s, e: None
        raise ExpressionRuntimeError(
            f"'{type(node).__name__}' statements are not supported", self.span(node)
        )

    # -- assignment ------------------------------------------------------
    def _assign(self, node: ast.Assign) -> Statement:
        value = self.expr(node.value, frozenset())
        stores = [self._store(target) for target in node.targets]

        def assign(s: dict[str, Any], e: Env) -> None:
            result = value(s, e)
            for store in stores:
                store(s, e, result)

        return assign

    def _store(self, target: ast.expr) -> Callable[[dict[str, Any], Env, Any], None]:
        if isinstance(target, ast.Name):
            return self._store_name(target)
        if isinstance(target, ast.Tuple | ast.List):
            names = [
                self._store_name(element)
                for element in target.elts
                if isinstance(element, ast.Name)
            ]
            fail = self.failure

            def unpack(s: dict[str, Any], e: Env, value: Any) -> None:
                try:
                    values = tuple(value)
                except TypeError as error:
                    raise fail(target, TypeError(f"cannot unpack a {type_name(value)}")) from error
                if len(values) != len(names):
                    raise fail(
                        target,
                        ValueError(f"expected {len(names)} values to unpack, got {len(values)}"),
                    )
                for store, item in zip(names, values, strict=True):
                    store(s, e, item)

            return unpack
        root, steps = self._path(target)
        *parents, (last_key, _) = steps
        container_of = self._container(root, parents, target, create=True)
        fail = self.failure

        def store_item(s: dict[str, Any], e: Env, value: Any) -> None:
            container = container_of(s, e)
            key = last_key(s, e)
            try:
                container[key] = value
            except (IndexError, TypeError) as error:
                raise fail(target, error) from error

        return store_item

    def _store_name(self, target: ast.Name) -> Callable[[dict[str, Any], Env, Any], None]:
        name = target.id
        if name in self.locals:
            raise ExpressionSyntaxError(
                f"'{name}' is a loop variable here; assign to another name to write the state",
                self.span(target),
                construct="loop variable assignment",
            )

        def store(s: dict[str, Any], e: Env, value: Any) -> None:
            s[name] = value
            e.written[name] = None

        return store

    def _augmented(self, node: ast.AugAssign) -> Statement:
        symbol, op = _BINARY[type(node.op)]
        value = self.expr(node.value, frozenset())
        fail = self.failure
        target = node.target

        def combine(current: Any, operand: Any) -> Any:
            try:
                return op(current, operand)
            except Exception as error:
                reason: Exception = error
                if current is None or operand is None:
                    reason = TypeError(
                        f"cannot apply {symbol}= to {type_name(current)} and "
                        f"{type_name(operand)} (null means the key is missing)"
                    )
                raise fail(node, reason) from error

        if isinstance(target, ast.Name):
            read = self.expr(ast.Name(target.id, ast.Load(), **_position(target)), frozenset())
            store = self._store_name(target)

            def augment_name(s: dict[str, Any], e: Env) -> None:
                operand = value(s, e)
                store(s, e, combine(read(s, e), operand))

            return augment_name
        root, steps = self._path(target)
        *parents, (last_key, _) = steps
        container_of = self._container(root, parents, target, create=True)

        def augment_item(s: dict[str, Any], e: Env) -> None:
            operand = value(s, e)
            container = container_of(s, e)
            key = last_key(s, e)
            try:
                current = container.get(key) if isinstance(container, dict) else container[key]
                container[key] = combine(current, operand)
            except (IndexError, TypeError) as error:
                raise fail(target, error) from error

        return augment_item

    # -- control flow ----------------------------------------------------
    def _if(self, node: ast.If) -> Statement:
        test = self.expr(node.test, frozenset())
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None

        def branch(s: dict[str, Any], e: Env) -> None:
            if test(s, e):
                body(s, e)
            elif orelse is not None:
                orelse(s, e)

        return branch

    def _for(self, node: ast.For) -> Statement:
        iterate = self.expr(node.iter, frozenset())
        bind = self.binder(node.target)
        body = self.block(node.body)
        span = self.span(node)
        iterable = self.iterable
        iter_node = node.iter

        def loop(s: dict[str, Any], e: Env) -> None:
            for item in iterable(iter_node, iterate(s, e)):
                e.step(span)
                bind(e.locals, item)
                body(s, e)

        return loop

    # -- copy-on-write ---------------------------------------------------
    def mutation(self, node: ast.Call, func: ast.Attribute, bound: frozenset[str]) -> Fn:
        root, steps = self._path(func.value)
        container_of = self._container(root, steps, func.value, create=False)
        arguments = self.arguments(node, bound)
        name = func.attr
        fail = self.failure

        def mutate(s: Any, e: Env | None) -> None:
            assert e is not None  # transforms always run with an Env
            args, _ = arguments(s, e)
            container = container_of(s, e)
            try:
                call_mutating_method(container, name, tuple(args))
            except Exception as error:
                raise fail(node, error) from error

        return mutate

    def _path(self, node: ast.expr) -> tuple[str, list[KeyStep]]:
        """Root name and key steps of `a.b[0]`; the checker guarantees the shape."""
        steps: list[KeyStep] = []
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Attribute):
                key: Any = node.attr
                steps.append((_constant(key), node))
            else:
                steps.append((self.expr(node.slice, frozenset()), node))
            node = node.value
        assert isinstance(node, ast.Name)
        if node.id in self.locals:
            raise ExpressionSyntaxError(
                f"'{node.id}' is a loop variable; changing it would not change the state. "
                "Build a new value and assign it to a state key",
                self.span(node),
                construct="loop variable mutation",
            )
        steps.reverse()
        return node.id, steps

    def _container(
        self, root: str, steps: list[KeyStep], node: ast.expr, *, create: bool
    ) -> Callable[[dict[str, Any], Env], Any]:
        """A function returning the owned container at the end of `steps`."""
        root_span = self.span(node)
        positions = self.positions

        def owned(s: dict[str, Any], e: Env) -> Any:
            value = s.get(root)
            if value is None and not create:
                raise ExpressionRuntimeError(
                    f"'{root}' is not set; assign it first (for example {root} = [])", root_span
                )
            container = _own(e, value, root, root_span)
            if container is not value:
                s[root] = container
            e.written[root] = None
            for key_fn, step_node in steps:
                key = key_fn(s, e)
                child = _child(
                    container, key, positions.segment(step_node), positions.span(step_node)
                )
                owned_child = _own(
                    e, child, positions.segment(step_node), positions.span(step_node)
                )
                if owned_child is not child:
                    container[key] = owned_child
                container = owned_child
            return container

        return owned


def _constant(value: Any) -> Fn:
    return lambda s, e: value


def _child(container: Any, key: Any, what: str, span: Span) -> Any:
    if isinstance(container, dict):
        value = container.get(key, MISSING)
        return None if value is MISSING else value
    try:
        return container[key]
    except (IndexError, TypeError, KeyError) as error:
        raise ExpressionRuntimeError(f"`{what}` failed: {error}", span) from error


def _own(e: Env, value: Any, what: str, span: Span) -> Any:
    """`value` itself if this run created it, else a shallow copy the run owns."""
    if id(value) in e.owned:
        return value
    copy: Any
    if value is None:
        copy = {}
    elif isinstance(value, list):
        copy = list(value)
    elif isinstance(value, Mapping):
        copy = dict(value)
    else:
        raise ExpressionRuntimeError(
            f"`{what}` is a {type_name(value)}; only lists and mappings can be changed in place",
            span,
        )
    e.owned[id(copy)] = copy
    return copy


def loop_variables(tree: ast.AST) -> frozenset[str]:
    """Names bound by `for` statements anywhere in a transform."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.For):
            names.update(binding_names(node.target))
    return frozenset(names)


def _position(node: ast.AST) -> dict[str, int]:
    return {
        attr: getattr(node, attr)
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset")
    }
