"""Compiles a checked expression tree into nested closures (no eval, exec or code objects).

Each closure takes `(state, env)`: `state` is the mapping names are read from,
`env` is None on the fast path or an `Env` carrying notes, loop variables, the
step budget and, in transforms, copy-on-write bookkeeping. Value semantics:
a missing key reads as null, reading a key of null is null, and ordering
comparisons with null are False; each of these leaves a note when notes are
collected. This module knows nothing of YAML, the workflow model or the executor.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.expressions.errors import ExpressionNote, ExpressionRuntimeError, Span
from engine.expressions.limits import (
    MAX_STEPS,
    LimitExceeded,
    add,
    check_weight,
    lshift,
    modulo,
    mul,
    power,
)
from engine.expressions.methods import MUTATING_METHODS, call_read_method
from engine.expressions.parsing import LITERAL_NAMES, STATE_NAME, Positions

Fn = Callable[[Any, "Env | None"], Any]

Arguments = Callable[[Any, "Env | None"], tuple[list[Any], dict[str, Any]]]

MISSING: Any = object()


class Env:
    """Per-evaluation context: notes, loop variables, step budget, owned copies."""

    __slots__ = ("locals", "notes", "owned", "steps", "written")

    def __init__(self, notes: list[ExpressionNote] | None = None) -> None:
        self.notes = notes
        self.locals: dict[str, Any] = {}
        self.steps = 0
        self.owned: dict[int, Any] = {}
        self.written: dict[str, None] = {}

    def note(self, message: str, span: Span) -> None:
        if self.notes is not None:
            self.notes.append(ExpressionNote(message, *span))

    def step(self, span: Span) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExpressionRuntimeError(
                f"evaluation stopped after {MAX_STEPS:,} loop iterations (limit); "
                "loop over less data or use a registered transform function",
                span,
                construct="step limit",
            )


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _clean(message: str) -> str:
    return message.replace("'NoneType'", "null").replace("NoneType", "null")


_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", modulo),
    ast.Pow: ("**", power),
    ast.LShift: ("<<", lshift),
    ast.RShift: (">>", operator.rshift),
    ast.BitOr: ("|", operator.or_),
    ast.BitAnd: ("&", operator.and_),
    ast.BitXor: ("^", operator.xor),
}
_ORDERING: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
_EQUALITY: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}
_FORMAT_NUMBER = re.compile(r"\d+")


class ExpressionCompiler:
    """Compiles expression nodes; the transform compiler extends it with mutations."""

    def __init__(
        self,
        positions: Positions,
        functions: Mapping[str, Callable[..., Any]],
        locals_: frozenset[str] = frozenset(),
    ) -> None:
        self.positions = positions
        self.functions = functions
        self.locals = locals_

    # -- helpers ---------------------------------------------------------
    def span(self, node: ast.AST) -> Span:
        return self.positions.span(node)

    def text(self, node: ast.AST) -> str:
        return self.positions.segment(node)

    def failure(self, node: ast.AST, error: Exception, what: str | None = None) -> Exception:
        """A runtime error for `node`; the caller raises it `from` the original."""
        if isinstance(error, ExpressionRuntimeError):
            return error
        detail = _clean(str(error)) or type(error).__name__
        if isinstance(error, KeyError):
            detail = f"no key {detail}"
        construct = "limit" if isinstance(error, LimitExceeded) else None
        return ExpressionRuntimeError(
            f"{what or '`' + self.text(node) + '`'} failed: {detail}",
            self.span(node),
            construct=construct,
        )

    # -- dispatch --------------------------------------------------------
    def expr(self, node: ast.expr, bound: frozenset[str]) -> Fn:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:  # the checker refuses these first; keep a clear error anyway
            raise ExpressionRuntimeError(
                f"'{type(node).__name__}' is not supported", self.span(node)
            )
        result: Fn = method(node, bound)
        return result

    def constant_of(self, node: ast.expr) -> tuple[bool, Any]:
        if isinstance(node, ast.Constant):
            return True, node.value
        if isinstance(node, ast.Name) and node.id in LITERAL_NAMES:
            return True, LITERAL_NAMES[node.id]
        return False, None

    def is_state(self, node: ast.expr, bound: frozenset[str]) -> bool:
        return isinstance(node, ast.Name) and node.id == STATE_NAME and node.id not in bound

    # -- leaves ----------------------------------------------------------
    def _Constant(self, node: ast.Constant, bound: frozenset[str]) -> Fn:
        value = node.value
        return lambda s, e: value

    def _Name(self, node: ast.Name, bound: frozenset[str]) -> Fn:
        name = node.id
        if name in bound or name in self.locals:

            def load_local(s: Any, e: Env | None) -> Any:
                return e.locals.get(name) if e is not None else None

            return load_local
        if name in LITERAL_NAMES:
            value = LITERAL_NAMES[name]
            return lambda s, e: value
        if name == STATE_NAME:
            return lambda s, e: dict(s)
        return self.state_reader(name, self.span(node))

    def state_reader(self, name: str, span: Span) -> Fn:
        return _key_reader(name, span, None, f"'{name}' is not set; read as null")

    # -- access ----------------------------------------------------------
    def _Attribute(self, node: ast.Attribute, bound: frozenset[str]) -> Fn:
        if self.is_state(node.value, bound):
            return self.state_reader(node.attr, self.span(node))
        return self.key_reader(node, self.expr(node.value, bound), node.attr)

    def key_reader(self, node: ast.expr, container: Fn, key: Any) -> Fn:
        span = self.span(node)
        owner = self.text(node.value) if isinstance(node, ast.Attribute | ast.Subscript) else "?"
        missing = f"'{owner}' has no key {key!r}; read as null"
        null = f"'{owner}' is null, so `{self.text(node)}` reads as null"
        fail = self.failure

        def read(s: Any, e: Env | None) -> Any:
            obj = container(s, e)
            if isinstance(obj, Mapping):
                value = obj.get(key, MISSING)
                if value is MISSING:
                    if e is not None:
                        e.note(missing, span)
                    return None
                return value
            if obj is None:
                if e is not None:
                    e.note(null, span)
                return None
            raise fail(node, TypeError(f"'{owner}' is a {type_name(obj)}, not a mapping"))

        return read

    def _Subscript(self, node: ast.Subscript, bound: frozenset[str]) -> Fn:
        is_constant, key = self.constant_of(node.slice)
        if self.is_state(node.value, bound):
            if is_constant and isinstance(key, str):
                return self.state_reader(key, self.span(node))
            index = self.expr(node.slice, bound)
            return lambda s, e: s.get(index(s, e))
        container = self.expr(node.value, bound)
        if is_constant and not isinstance(node.slice, ast.Slice):
            if isinstance(key, str):
                return self.key_reader(node, container, key)
            return self._indexer(node, container, lambda s, e: key)
        return self._indexer(node, container, self.expr(node.slice, bound))

    def _indexer(self, node: ast.Subscript, container: Fn, index: Fn) -> Fn:
        span = self.span(node)
        owner = self.text(node.value)
        fail = self.failure

        def read(s: Any, e: Env | None) -> Any:
            obj = container(s, e)
            key = index(s, e)
            if isinstance(obj, Mapping):
                value = obj.get(key, MISSING)
                if value is MISSING:
                    if e is not None:
                        e.note(f"'{owner}' has no key {key!r}; read as null", span)
                    return None
                return value
            if obj is None:
                if e is not None:
                    e.note(f"'{owner}' is null, so `{owner}[...]` reads as null", span)
                return None
            if not isinstance(obj, list | tuple | str):
                raise fail(
                    node, TypeError(f"'{owner}' is a {type_name(obj)}; it cannot be indexed")
                )
            try:
                return obj[key]
            except IndexError:
                raise fail(
                    node,
                    IndexError(f"index {key} is out of range ('{owner}' has {len(obj)} items)"),
                ) from None
            except Exception as error:
                raise fail(node, error) from error

        return read

    def _Slice(self, node: ast.Slice, bound: frozenset[str]) -> Fn:
        parts = [
            None if part is None else self.expr(part, bound)
            for part in (node.lower, node.upper, node.step)
        ]
        lower, upper, step = parts
        return lambda s, e: slice(
            lower(s, e) if lower else None,
            upper(s, e) if upper else None,
            step(s, e) if step else None,
        )

    # -- operators -------------------------------------------------------
    def _BoolOp(self, node: ast.BoolOp, bound: frozenset[str]) -> Fn:
        values = [self.expr(value, bound) for value in node.values]
        if len(values) == 2:
            first, second = values
            if isinstance(node.op, ast.And):
                return lambda s, e: second(s, e) if (v := first(s, e)) else v
            return lambda s, e: v if (v := first(s, e)) else second(s, e)
        is_and = isinstance(node.op, ast.And)

        def chain(s: Any, e: Env | None) -> Any:
            value = None
            for fn in values:
                value = fn(s, e)
                if bool(value) is not is_and:
                    return value
            return value

        return chain

    def _UnaryOp(self, node: ast.UnaryOp, bound: frozenset[str]) -> Fn:
        operand = self.expr(node.operand, bound)
        if isinstance(node.op, ast.Not):
            return lambda s, e: not operand(s, e)
        unary_ops: dict[type[ast.unaryop], Callable[[Any], Any]] = {
            ast.USub: operator.neg,
            ast.UAdd: operator.pos,
            ast.Invert: operator.invert,
        }
        op = unary_ops[type(node.op)]
        fail = self.failure

        def unary(s: Any, e: Env | None) -> Any:
            value = operand(s, e)
            try:
                return op(value)
            except Exception as error:
                raise fail(node, error) from error

        return unary

    def _BinOp(self, node: ast.BinOp, bound: frozenset[str]) -> Fn:
        symbol, op = _BINARY[type(node.op)]
        left = self.expr(node.left, bound)
        right = self.expr(node.right, bound)
        fail = self.failure

        def binary(s: Any, e: Env | None) -> Any:
            a = left(s, e)
            b = right(s, e)
            try:
                return op(a, b)
            except Exception as error:
                reason: Exception = error
                if a is None or b is None:
                    reason = TypeError(
                        f"cannot apply {symbol} to {type_name(a)} and {type_name(b)} "
                        "(null means the key is missing)"
                    )
                raise fail(node, reason) from error

        return binary

    def _IfExp(self, node: ast.IfExp, bound: frozenset[str]) -> Fn:
        test = self.expr(node.test, bound)
        body = self.expr(node.body, bound)
        orelse = self.expr(node.orelse, bound)
        return lambda s, e: body(s, e) if test(s, e) else orelse(s, e)

    def _Compare(self, node: ast.Compare, bound: frozenset[str]) -> Fn:
        steps = [
            self._comparison(node, op, right, bound)
            for op, right in zip(node.ops, node.comparators, strict=True)
        ]
        first = self.expr(node.left, bound)
        if len(steps) == 1:
            compare = steps[0]
            return lambda s, e: compare(first(s, e), s, e)[0]

        def chain(s: Any, e: Env | None) -> Any:
            left = first(s, e)
            for compare in steps:
                result, left = compare(left, s, e)
                if not result:
                    return False
            return True

        return chain

    def _comparison(
        self, node: ast.Compare, op_node: ast.cmpop, right_node: ast.expr, bound: frozenset[str]
    ) -> Callable[[Any, Any, Env | None], tuple[Any, Any]]:
        span = self.span(node)
        text = self.text(node)
        fail = self.failure
        is_constant, constant = self.constant_of(right_node)
        right = self.expr(right_node, bound)
        if isinstance(op_node, ast.Eq | ast.NotEq) or (
            isinstance(op_node, ast.In | ast.NotIn)
            and isinstance(right_node, ast.List | ast.Tuple | ast.Set)
        ):
            right = self.bare_words(right_node, bound) or right
        if type(op_node) in _ORDERING:
            symbol, op = _ORDERING[type(op_node)]
            null_note = f"`{text}`: {symbol} with null is false (a value is missing)"

            def ordering(a: Any, s: Any, e: Env | None) -> tuple[Any, Any]:
                b = constant if is_constant else right(s, e)
                if a is None or b is None:
                    if e is not None:
                        e.note(null_note, span)
                    return False, b
                try:
                    return op(a, b), b
                except TypeError as error:
                    raise fail(
                        node, TypeError(f"cannot compare {type_name(a)} {symbol} {type_name(b)}")
                    ) from error

            return ordering
        if type(op_node) in _EQUALITY:
            op = _EQUALITY[type(op_node)][1]
            if is_constant:
                return lambda a, s, e: (op(a, constant), constant)
            return lambda a, s, e: (op(a, b := right(s, e)), b)
        negate = isinstance(op_node, ast.NotIn)
        null_note = f"`{text}`: the container is null (missing), treated as empty"

        def membership(a: Any, s: Any, e: Env | None) -> tuple[Any, Any]:
            b = right(s, e)
            if b is None:
                if e is not None:
                    e.note(null_note, span)
                return negate, b
            try:
                return (a not in b) if negate else (a in b), b
            except TypeError as error:
                raise fail(
                    node, TypeError(f"cannot test {type_name(a)} in {type_name(b)}")
                ) from error

        return membership

    def bare_words(self, node: ast.expr, bound: frozenset[str]) -> Fn | None:
        """Victor's bare-word literals on the right of `==`, `!=` and `in [...]`.

        `status == done` and `lang in [python, go]` compare with the text when no
        state key of that name exists (Victor reads such words as strings); a key
        that exists is still read, so key-to-key comparisons keep working. None
        when `node` holds no bare word.
        """
        if self.is_bare_word(node, bound):
            assert isinstance(node, ast.Name)
            return self.word_reader(node.id, self.span(node))
        if not isinstance(node, ast.List | ast.Tuple | ast.Set) or not any(
            self.is_bare_word(element, bound) for element in node.elts
        ):
            return None
        if any(isinstance(element, ast.Starred) for element in node.elts):
            return None
        fns = [
            self.word_reader(element.id, self.span(element))
            if isinstance(element, ast.Name) and self.is_bare_word(element, bound)
            else self.expr(element, bound)
            for element in node.elts
        ]
        return lambda s, e: [fn(s, e) for fn in fns]

    def is_bare_word(self, node: ast.expr, bound: frozenset[str]) -> bool:
        return (
            isinstance(node, ast.Name)
            and node.id not in bound
            and node.id not in self.locals
            and node.id not in LITERAL_NAMES
            and node.id != STATE_NAME
        )

    @staticmethod
    def word_reader(name: str, span: Span) -> Fn:
        message = f"'{name}' is not a state key; compared as the text {name!r}"
        return _key_reader(name, span, name, message)

    # -- displays --------------------------------------------------------
    def sequence_builder(self, elements: list[ast.expr], bound: frozenset[str]) -> Fn:
        """Evaluates a list of elements, expanding `*starred` ones (bounded)."""
        if not any(isinstance(element, ast.Starred) for element in elements):
            fns = [self.expr(element, bound) for element in elements]
            return lambda s, e: [fn(s, e) for fn in fns]
        parts = [
            (
                isinstance(el, ast.Starred),
                self.expr(el.value if isinstance(el, ast.Starred) else el, bound),
                el,
            )
            for el in elements
        ]
        fail = self.failure

        def build(s: Any, e: Env | None) -> list[Any]:
            result: list[Any] = []
            for starred, fn, element in parts:
                value = fn(s, e)
                if not starred:
                    result.append(value)
                    continue
                if value is None:
                    raise fail(element, TypeError("cannot unpack null (the key is missing)"))
                try:
                    result = add(result, list(value))
                except Exception as error:
                    raise fail(element, error) from error
            return result

        return build

    def _List(self, node: ast.List, bound: frozenset[str]) -> Fn:
        return self.sequence_builder(node.elts, bound)

    def _Tuple(self, node: ast.Tuple, bound: frozenset[str]) -> Fn:
        build = self.sequence_builder(node.elts, bound)
        return lambda s, e: tuple(build(s, e))

    def _Set(self, node: ast.Set, bound: frozenset[str]) -> Fn:
        build = self.sequence_builder(node.elts, bound)
        fail = self.failure

        def make(s: Any, e: Env | None) -> Any:
            try:
                return set(build(s, e))
            except TypeError as error:
                raise fail(node, error) from error

        return make

    def _Dict(self, node: ast.Dict, bound: frozenset[str]) -> Fn:
        entries = [
            (None if key is None else self.expr(key, bound), self.expr(value, bound))
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        fail = self.failure

        def make(s: Any, e: Env | None) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            try:
                for key, value in entries:
                    if key is None:
                        result.update(value(s, e) or {})
                    else:
                        result[key(s, e)] = value(s, e)
            except (TypeError, ValueError) as error:
                raise fail(node, error) from error
            return result

        return make

    def _JoinedStr(self, node: ast.JoinedStr, bound: frozenset[str]) -> Fn:
        parts = [self.expr(value, bound) for value in node.values]
        return lambda s, e: "".join(part(s, e) for part in parts)

    def _FormattedValue(self, node: ast.FormattedValue, bound: frozenset[str]) -> Fn:
        value_fn = self.expr(node.value, bound)
        spec_fn = self.expr(node.format_spec, bound) if node.format_spec else None
        conversions: dict[int, Callable[[Any], str]] = {115: str, 114: repr, 97: ascii}
        conversion = conversions.get(node.conversion)
        fail = self.failure

        def render(s: Any, e: Env | None) -> str:
            value = value_fn(s, e)
            try:
                check_weight(value, "formatting")
                if conversion is not None:
                    value = conversion(value)
                spec = spec_fn(s, e) if spec_fn else ""
                if any(int(n) > 1000 for n in _FORMAT_NUMBER.findall(spec)):
                    raise LimitExceeded(f"format spec {spec!r} is too wide (limit 1000)")
                return format(value, spec)
            except Exception as error:
                raise fail(node, error) from error

        return render

    # -- comprehensions --------------------------------------------------
    def _ListComp(self, node: ast.ListComp, bound: frozenset[str]) -> Fn:
        return self._comprehension(node, node.generators, bound, "list", (node.elt,))

    def _GeneratorExp(self, node: ast.GeneratorExp, bound: frozenset[str]) -> Fn:
        # Generators are evaluated eagerly: the step budget bounds them like lists.
        return self._comprehension(node, node.generators, bound, "list", (node.elt,))

    def _SetComp(self, node: ast.SetComp, bound: frozenset[str]) -> Fn:
        return self._comprehension(node, node.generators, bound, "set", (node.elt,))

    def _DictComp(self, node: ast.DictComp, bound: frozenset[str]) -> Fn:
        return self._comprehension(node, node.generators, bound, "dict", (node.key, node.value))

    def _comprehension(
        self,
        node: ast.expr,
        generators: list[ast.comprehension],
        bound: frozenset[str],
        kind: str,
        elements: tuple[ast.expr, ...],
    ) -> Fn:
        names: set[str] = set()
        inner_bound = bound
        loops = []
        for generator in generators:
            iterate = self.expr(generator.iter, inner_bound)
            target_names = binding_names(generator.target)
            names.update(target_names)
            inner_bound = inner_bound | frozenset(target_names)
            conditions = [self.expr(test, inner_bound) for test in generator.ifs]
            loops.append((iterate, self.binder(generator.target), conditions, generator.iter))
        element_fns = [self.expr(element, inner_bound) for element in elements]
        span = self.span(node)
        iterable = self.iterable
        saved_names = tuple(names)

        def run(s: Any, e: Env, level: int, sink: Callable[[Any, Any], None]) -> None:
            iterate, bind, conditions, iter_node = loops[level]
            last = level == len(loops) - 1
            for item in iterable(iter_node, iterate(s, e)):
                e.step(span)
                bind(e.locals, item)
                if conditions and not all(cond(s, e) for cond in conditions):
                    continue
                if last:
                    sink(element_fns[0](s, e), element_fns[-1](s, e) if kind == "dict" else None)
                else:
                    run(s, e, level + 1, sink)

        def comprehension(s: Any, e: Env | None) -> Any:
            if e is None:
                e = Env()
            saved = [e.locals.get(name, MISSING) for name in saved_names]
            try:
                if kind == "dict":
                    out_dict: dict[Any, Any] = {}
                    run(s, e, 0, out_dict.__setitem__)
                    return out_dict
                out: list[Any] = []
                run(s, e, 0, lambda value, _: out.append(value))
                return set(out) if kind == "set" else out
            except TypeError as error:
                raise self.failure(node, error) from error
            finally:
                for name, value in zip(saved_names, saved, strict=True):
                    if value is MISSING:
                        e.locals.pop(name, None)
                    else:
                        e.locals[name] = value

        return comprehension

    def iterable(self, node: ast.expr, value: Any) -> Any:
        if value is None:
            raise self.failure(
                node, TypeError(f"cannot loop over null (`{self.text(node)}` is missing)")
            )
        if isinstance(value, Mapping):
            return list(value.keys())
        if isinstance(value, list | tuple | str | range | set | frozenset):
            return tuple(value)
        raise self.failure(node, TypeError(f"cannot loop over a {type_name(value)}"))

    def binder(self, target: ast.expr) -> Callable[[dict[str, Any], Any], None]:
        if isinstance(target, ast.Name):
            name = target.id

            def bind_one(locals_: dict[str, Any], item: Any) -> None:
                locals_[name] = item

            return bind_one
        names = binding_names(target)
        fail = self.failure

        def bind_many(locals_: dict[str, Any], item: Any) -> None:
            try:
                values = tuple(item)
            except TypeError as error:
                raise fail(
                    target, TypeError(f"cannot unpack a {type_name(item)} into {len(names)} names")
                ) from error
            if len(values) != len(names):
                raise fail(
                    target, ValueError(f"expected {len(names)} values to unpack, got {len(values)}")
                )
            for name, value in zip(names, values, strict=True):
                locals_[name] = value

        return bind_many

    # -- calls -----------------------------------------------------------
    def arguments(self, node: ast.Call, bound: frozenset[str]) -> Arguments:
        positional = self.sequence_builder(node.args, bound)
        keywords = [(kw.arg, self.expr(kw.value, bound)) for kw in node.keywords if kw.arg]
        if not keywords:
            return lambda s, e: (positional(s, e), {})
        return lambda s, e: (positional(s, e), {name: fn(s, e) for name, fn in keywords})

    def _Call(self, node: ast.Call, bound: frozenset[str]) -> Fn:
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in MUTATING_METHODS:
                return self.mutation(node, func, bound)
            if self.is_state(func.value, bound) and func.attr == "get":
                return self._state_get(node, bound)
            return self._method(node, func, bound)
        assert isinstance(func, ast.Name)
        name = func.id
        arguments = self.arguments(node, bound)
        if name == "locals" and name not in self.functions and not node.args:
            return lambda s, e: dict(s)
        function = self.functions.get(name)
        fail = self.failure
        if function is None:
            message = (
                f"unknown function '{name}': it is not built in and was not registered; "
                "register it as a transform function"
            )
            span = self.span(func)

            def unknown(s: Any, e: Env | None) -> Any:
                raise ExpressionRuntimeError(message, span, construct="unknown function")

            return unknown
        what = f"{name}()"

        def call(s: Any, e: Env | None) -> Any:
            args, kwargs = arguments(s, e)
            try:
                return function(*args, **kwargs)
            except Exception as error:
                raise fail(node, error, what) from error

        return call

    def _state_get(self, node: ast.Call, bound: frozenset[str]) -> Fn:
        arguments = self.arguments(node, bound)
        fail = self.failure
        span = self.span(node)

        def get(s: Any, e: Env | None) -> Any:
            args, kwargs = arguments(s, e)
            if not args:
                raise fail(node, TypeError("ctx.get() needs a key"))
            default = args[1] if len(args) > 1 else kwargs.get("default")
            value = s.get(args[0], MISSING)
            if value is MISSING:
                if e is not None and len(args) < 2:
                    e.note(f"'{args[0]}' is not set; read as null", span)
                return default
            return value

        return get

    def _method(self, node: ast.Call, func: ast.Attribute, bound: frozenset[str]) -> Fn:
        receiver = self.expr(func.value, bound)
        arguments = self.arguments(node, bound)
        name = func.attr
        fail = self.failure
        owner = self.text(func.value)

        def call(s: Any, e: Env | None) -> Any:
            obj = receiver(s, e)
            args, kwargs = arguments(s, e)
            try:
                return call_read_method(obj, name, tuple(args), kwargs)
            except Exception as error:
                reason: Exception = error
                if obj is None:
                    reason = TypeError(f"'{owner}' is null (missing); it has no .{name}()")
                raise fail(node, reason) from error

        return call

    def mutation(self, node: ast.Call, func: ast.Attribute, bound: frozenset[str]) -> Fn:
        raise ExpressionRuntimeError(
            f".{func.attr}() changes a value in place; only transforms may do that",
            self.span(func),
            construct=f".{func.attr}()",
        )


def binding_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [element.id for element in target.elts if isinstance(element, ast.Name)]
    return []


def _key_reader(name: str, span: Span, missing: Any, message: str) -> Fn:
    """Reads a top-level state key; a missing key gives `missing` and a note in the trace."""

    def load(s: Any, e: Env | None) -> Any:
        value = s.get(name, MISSING)
        if value is MISSING:
            if e is not None:
                e.note(message, span)
            return missing
        return value

    return load
