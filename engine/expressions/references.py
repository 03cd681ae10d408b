"""Which state keys an expression or transform reads and writes, and where.

Used for state-flow analysis (`names`, `reads`, `writes`) and by the LSP for
hover, go-to-definition and rename of state keys inside conditions and
transforms. Positions are relative to the text. Loop and comprehension
variables, literal names and function names are not state keys. A bare name on
the right of `==`/`!=` or inside `in [...]` (`status == done`) is marked as a
bare word: evaluation compares it as its own text when no such key exists. This
module knows nothing of evaluation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engine.expressions.compiler import binding_names
from engine.expressions.errors import Span
from engine.expressions.methods import MUTATING_METHODS
from engine.expressions.parsing import LITERAL_NAMES, STATE_NAME, Positions
from engine.expressions.paths import format_path

Kind = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class Reference:
    """One use of a state key: `root` is the top-level key, `path` the constant path read."""

    root: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    kind: Kind
    bare_word: bool = False
    """A bare name right of `==`/`!=` or in `in [...]`: compared as its own text
    (`done` as 'done') when no state key of that name exists, as Victor does."""

    def as_tuple(self) -> tuple[str, str, int, int, int, int]:
        return (self.root, self.path, self.line, self.column, self.end_line, self.end_column)


class ReferenceCollector:
    """Collects references in evaluation order; `bound` names are local variables."""

    def __init__(self, positions: Positions, loop_names: frozenset[str] = frozenset()) -> None:
        self.positions = positions
        self.loop_names = loop_names
        self.found: list[Reference] = []
        self.reads_all = False
        """True when the whole state is read (`ctx` as a value, `ctx[expr]`, `locals()`)."""

    def _add(self, root: str, path: str, span: Span, kind: Kind, bare_word: bool = False) -> None:
        self.found.append(Reference(root, path, *span, kind, bare_word))

    def _span_between(self, first: ast.AST, last: ast.AST) -> Span:
        start = self.positions.span(first)
        end = self.positions.span(last)
        return (start[0], start[1], end[2], end[3])

    # -- expressions -----------------------------------------------------
    def expr(self, node: ast.AST, bound: frozenset[str], kind: Kind = "read") -> None:
        bound = bound | self.loop_names
        if isinstance(node, ast.Name):
            if node.id in bound or node.id in LITERAL_NAMES:
                return
            if node.id == STATE_NAME:
                self.reads_all = True
            else:
                self._add(node.id, node.id, self.positions.span(node), kind)
        elif isinstance(node, ast.Attribute | ast.Subscript):
            self._chain(node, bound, kind)
        elif isinstance(node, ast.Call):
            self._call(node, bound)
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            self._comprehension(node, bound)
        elif isinstance(node, ast.Compare):
            self._compare(node, bound)
        else:
            for child in ast.iter_child_nodes(node):
                self.expr(child, bound)

    def _chain(
        self, node: ast.Attribute | ast.Subscript, bound: frozenset[str], kind: Kind
    ) -> None:
        links: list[ast.Attribute | ast.Subscript] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute | ast.Subscript):
            links.append(base)
            base = base.value
        links.reverse()
        parts: list[str | int] = []
        last: ast.AST = base
        constant = True
        for link in links:
            key = _constant_key(link)
            if constant and key is not None:
                parts.append(key)
                last = link
            else:
                constant = False
            if isinstance(link, ast.Subscript) and _constant_key(link) is None:
                self.expr(link.slice, bound)
        if not isinstance(base, ast.Name):
            self.expr(base, bound)
            return
        if base.id in bound or base.id in LITERAL_NAMES:
            return
        if base.id == STATE_NAME:
            if parts and isinstance(parts[0], str):
                self._add(parts[0], format_path(tuple(parts)), self._span_between(base, last), kind)
            else:
                self.reads_all = True
            return
        path = format_path((base.id, *parts))
        self._add(base.id, path, self._span_between(base, last), kind)

    def _compare(self, node: ast.Compare, bound: frozenset[str]) -> None:
        """Marks the bare words the expression compiler reads as text (its `bare_words`)."""
        self.expr(node.left, bound)
        for op, right in zip(node.ops, node.comparators, strict=True):
            words = _bare_word_positions(op, right)
            if not words:
                self.expr(right, bound)
                continue
            for element in words:
                if isinstance(element, ast.Name) and self._is_word(element, bound):
                    self._add(element.id, element.id, self.positions.span(element), "read", True)
                else:
                    self.expr(element, bound)

    def _is_word(self, name: ast.Name, bound: frozenset[str]) -> bool:
        return (
            name.id not in bound
            and name.id not in self.loop_names
            and name.id not in LITERAL_NAMES
            and name.id != STATE_NAME
        )

    def _call(self, node: ast.Call, bound: frozenset[str]) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = func.value
            is_state = isinstance(receiver, ast.Name) and receiver.id == STATE_NAME
            if is_state and STATE_NAME not in bound and func.attr == "get":
                key = node.args[0] if node.args else None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._add(key.value, key.value, self.positions.span(node), "read")
                else:
                    self.reads_all = True
            else:
                self.expr(func.value, bound)
                if func.attr in MUTATING_METHODS:
                    self.expr(func.value, bound, "write")
        elif isinstance(func, ast.Name) and func.id == "locals" and not node.args:
            self.reads_all = True
        for argument in node.args:
            self.expr(argument, bound)
        for keyword in node.keywords:
            self.expr(keyword.value, bound)

    def _comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        bound: frozenset[str],
    ) -> None:
        inner = bound
        for generator in node.generators:
            self.expr(generator.iter, inner)
            inner = inner | frozenset(binding_names(generator.target))
            for test in generator.ifs:
                self.expr(test, inner)
        if isinstance(node, ast.DictComp):
            self.expr(node.key, inner)
            self.expr(node.value, inner)
        else:
            self.expr(node.elt, inner)

    # -- statements ------------------------------------------------------
    def statements(self, body: Iterable[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            self.expr(node.value, frozenset())
            for target in node.targets:
                self.target(target)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, frozenset())
            self.expr(node.target, frozenset())
            self.target(node.target)
        elif isinstance(node, ast.If):
            self.expr(node.test, frozenset())
            self.statements(node.body)
            self.statements(node.orelse)
        elif isinstance(node, ast.For):
            self.expr(node.iter, frozenset())
            self.statements(node.body)
        elif isinstance(node, ast.Expr):
            self.expr(node.value, frozenset())

    def target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.target(element)
        elif isinstance(target, ast.Name):
            if target.id not in self.loop_names:
                self._add(target.id, target.id, self.positions.span(target), "write")
        else:
            self.expr(target, frozenset(), "write")


def _bare_word_positions(op: ast.cmpop, right: ast.expr) -> list[ast.expr]:
    """The right-side elements that may be bare words: `x == word`, `x in [a, b]`
    (and `==` with a list); none in a list with `*starred` elements, as evaluated."""
    if isinstance(op, ast.Eq | ast.NotEq) and isinstance(right, ast.Name):
        return [right]
    if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) or not isinstance(
        right, ast.List | ast.Tuple | ast.Set
    ):
        return []
    if any(isinstance(element, ast.Starred) for element in right.elts):
        return []
    return list(right.elts)


def _constant_key(link: ast.Attribute | ast.Subscript) -> str | int | None:
    if isinstance(link, ast.Attribute):
        return link.attr
    key = link.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str | int):
        if isinstance(key.value, bool):
            return None
        return key.value
    if (
        isinstance(key, ast.UnaryOp)
        and isinstance(key.op, ast.USub)
        and isinstance(key.operand, ast.Constant)
        and isinstance(key.operand.value, int)
    ):
        return -key.operand.value
    return None


def flow_reads(body: list[ast.stmt], positions: Positions, loop_names: frozenset[str]) -> set[str]:
    """Root keys a transform reads before it has definitely assigned them itself."""
    reads: set[str] = set()

    def expression_reads(node: ast.AST) -> list[str]:
        collector = ReferenceCollector(positions, loop_names)
        collector.expr(node, frozenset())
        return [ref.root for ref in collector.found]

    def walk(statements: list[ast.stmt], assigned: set[str]) -> set[str]:
        for node in statements:
            if isinstance(node, ast.If):
                reads.update(k for k in expression_reads(node.test) if k not in assigned)
                then = walk(node.body, set(assigned))
                orelse = walk(node.orelse, set(assigned))
                assigned |= then & orelse
                continue
            if isinstance(node, ast.For):
                reads.update(k for k in expression_reads(node.iter) if k not in assigned)
                walk(node.body, set(assigned))
                continue
            if isinstance(node, ast.Assign | ast.AugAssign | ast.Expr):
                reads.update(k for k in expression_reads(node.value) if k not in assigned)
            if isinstance(node, ast.AugAssign | ast.Assign):
                augmented = isinstance(node, ast.AugAssign)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    # `x.k = v` and `x += v` start from the current value of `x`.
                    if augmented or isinstance(target, ast.Attribute | ast.Subscript):
                        reads.update(k for k in expression_reads(target) if k not in assigned)
                    assigned.update(_assigned_names(target, loop_names))
        return assigned

    walk(body, set())
    return reads


def _assigned_names(target: ast.expr, loop_names: frozenset[str]) -> list[str]:
    if isinstance(target, ast.Name):
        return [] if target.id in loop_names else [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for element in target.elts for n in _assigned_names(element, loop_names)]
    return []
