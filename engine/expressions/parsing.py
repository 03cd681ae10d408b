"""Text to a checked syntax tree: parsing with positions, and the whitelist of constructs.

`parse(text, mode)` parses with the stdlib `ast` module and returns the tree, a
`Positions` that maps `ast` byte offsets back to code points of the original
text, and every subset violation found (the caller decides whether they are
errors or warnings). Nothing here evaluates anything.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
import textwrap
import threading
import warnings
from dataclasses import dataclass
from typing import Literal

from engine.expressions.errors import ExpressionSyntaxError, Span
from engine.expressions.limits import MAX_DEPTH, MAX_TEXT_LENGTH
from engine.expressions.methods import ALL_METHODS, MUTATING_METHODS

Mode = Literal["expression", "transform"]

LITERAL_NAMES = {"true": True, "false": False, "null": None, "none": None}
STATE_NAME = "ctx"
"""`ctx.key`, `ctx["key"]` and `ctx.get("key")` read the state itself."""

_NEWLINE = re.compile(r"\r\n|\r|\n")

_UNSUPPORTED: dict[type[ast.AST], str] = {
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "class",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.While: "while",
    ast.Try: "try",
    ast.With: "with",
    ast.AsyncWith: "async with",
    ast.AsyncFor: "async for",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Lambda: "lambda",
    ast.Return: "return",
    ast.Delete: "del",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.Break: "break",
    ast.Continue: "continue",
    ast.NamedExpr: "assignment expression (:=)",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.Await: "await",
    ast.Match: "match",
    ast.AnnAssign: "annotated assignment",
    ast.MatMult: "@ operator",
}
if hasattr(ast, "TryStar"):
    _UNSUPPORTED[ast.TryStar] = "try"

_EXPRESSION_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp,
    ast.Dict, ast.Set, ast.List, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.Call, ast.keyword, ast.Constant,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.Starred, ast.JoinedStr,
    ast.FormattedValue, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)  # fmt: skip
_STATEMENT_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.Assign,
    ast.AugAssign,
    ast.If,
    ast.For,
    ast.Expr,
    ast.Pass,
)

SUGGESTION = "move this logic into a registered transform function (a Python callable)"


class Positions:
    """Maps `ast` positions (1-based lines, UTF-8 byte columns) to the original text."""

    def __init__(self, parsed: str, column_shift: list[int], text: str) -> None:
        self._lines = [line.encode("utf-8") for line in _NEWLINE.split(parsed)]
        self._shift = column_shift
        self.text = text
        self._text_lines = _NEWLINE.split(text)

    def _column(self, line: int, byte_column: int) -> int:
        if not 0 <= line < len(self._lines):
            return 0
        raw = self._lines[line][:byte_column].decode("utf-8", "replace")
        shift = self._shift[line] if line < len(self._shift) else 0
        return max(len(raw) + shift, 0)

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1) - 1
        end_line = getattr(node, "end_lineno", None)
        end_line = line if end_line is None else end_line - 1
        end_col = getattr(node, "end_col_offset", None)
        column = self._column(line, getattr(node, "col_offset", 0))
        end_column = column if end_col is None else self._column(end_line, end_col)
        return self._clamp((line, column, end_line, end_column))

    def segment(self, node: ast.AST) -> str:
        """The original text of a node, on one line (for messages)."""
        line, column, end_line, end_column = self.span(node)
        if line == end_line:
            return self._text_lines[line][column:end_column]
        parts = [self._text_lines[line][column:]]
        parts.extend(self._text_lines[line + 1 : end_line])
        parts.append(self._text_lines[end_line][:end_column])
        return " ".join(part.strip() for part in parts)

    def _clamp(self, span: Span) -> Span:
        last = len(self._text_lines) - 1
        line, column, end_line, end_column = span
        line = min(max(line, 0), last)
        end_line = min(max(end_line, line), last)
        column = min(max(column, 0), len(self._text_lines[line]))
        end_column = min(max(end_column, 0), len(self._text_lines[end_line]))
        if (end_line, end_column) < (line, column):
            end_line, end_column = line, column
        return (line, column, end_line, end_column)

    def syntax_span(self, error: SyntaxError) -> Span:
        """Span of a SyntaxError (its offsets are 1-based code points of the parsed text)."""
        line = (error.lineno or 1) - 1
        shift = self._shift[line] if 0 <= line < len(self._shift) else 0
        if error.offset is None or error.offset <= 0:
            column = len(self._text_lines[min(line, len(self._text_lines) - 1)])
        else:
            column = error.offset - 1 + shift
        end_line = (error.end_lineno or error.lineno or 1) - 1
        end_offset = error.end_offset
        if end_offset is None or end_offset <= 0 or (end_line, end_offset - 1) < (line, column):
            end_line, end_column = line, column + 1
        else:
            end_shift = self._shift[end_line] if end_line < len(self._shift) else 0
            end_column = end_offset - 1 + end_shift
        return self._clamp((line, column, end_line, end_column))


@dataclass(frozen=True, slots=True)
class Parsed:
    tree: ast.AST
    positions: Positions
    issues: tuple[ExpressionSyntaxError, ...]
    """Subset violations, in text order; `unsupported` ones are valid Python."""

    def first_error(self) -> ExpressionSyntaxError | None:
        fatal = [issue for issue in self.issues if not issue.unsupported]
        if fatal:
            return fatal[0]
        return self.issues[0] if self.issues else None


_PARSE_LOCK = threading.Lock()


def parse_python(text: str, mode: str) -> ast.AST:
    """`ast.parse`, one thread at a time.

    CPython 3.11's AST constructor keeps its recursion depth in shared state
    and fails with "SystemError: AST constructor recursion depth mismatch"
    when two threads parse at once (the LSP worker and a request thread do);
    `warnings.catch_warnings` is not thread-safe either. Parsing is cached and
    short, so a lock costs nothing measurable.
    """
    with _PARSE_LOCK, warnings.catch_warnings():
        # e.g. "invalid escape sequence": not the user's concern at this level
        warnings.simplefilter("ignore")
        return ast.parse(text, mode=mode)


# Validation, state flow, references and the run each parse the same text:
# parses are cached by text. Only short texts, so hostile input cannot fill memory.
_CACHED_TEXT_LENGTH = 2_000


def parse(text: str, mode: Mode) -> Parsed:
    """Parse `text`; raises ExpressionSyntaxError when it is not valid Python at all.

    The result is shared between callers: treat its tree as read-only.
    """
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expected text, got {type(text).__name__}")
    if len(text) > _CACHED_TEXT_LENGTH:
        return _parse(text, mode)
    outcome = _parse_cached(text, mode)
    if isinstance(outcome, ExpressionSyntaxError):
        raise copy.copy(outcome)  # a fresh exception: no traceback shared between raises
    return outcome


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str, mode: Mode) -> Parsed | ExpressionSyntaxError:
    try:
        return _parse(text, mode)
    except ExpressionSyntaxError as error:
        return error.with_traceback(None)


def _parse(text: str, mode: Mode) -> Parsed:
    if len(text) > MAX_TEXT_LENGTH:
        raise ExpressionSyntaxError(
            f"text is {len(text):,} characters long (limit {MAX_TEXT_LENGTH:,})",
            (0, 0, 0, 0),
        )
    lines = _NEWLINE.split(text)
    attempts = _attempts(text, lines, mode)
    # The last attempt is the adapted text (parenthesised or dedented): its error is
    # the meaningful one, since the raw text could not parse for layout reasons.
    failure: ExpressionSyntaxError | None = None
    for parsed_text, shift in attempts:
        positions = Positions(parsed_text, shift, text)
        try:
            tree = parse_python(parsed_text, "eval" if mode == "expression" else "exec")
        except SyntaxError as error:
            failure = _syntax_failure(error, positions)
            continue
        except (RecursionError, MemoryError):
            failure = ExpressionSyntaxError(
                "the text is nested too deeply to parse", (0, 0, 0, 0), construct="nesting"
            )
            continue
        except ValueError as error:
            failure = ExpressionSyntaxError(f"cannot parse: {error}")
            continue
        return Parsed(tree, positions, tuple(_Checker(positions, mode).check(tree)))
    assert failure is not None
    raise failure


def _attempts(text: str, lines: list[str], mode: Mode) -> list[tuple[str, list[int]]]:
    no_shift = [0] * len(lines)
    attempts = [(text, no_shift)]
    if mode == "expression":
        if "\n" in text or "\r" in text or text[:1].isspace():
            # Multi-line YAML scalars: parentheses make line breaks and indents legal.
            attempts.append(("(" + text + "\n)", [-1] + [0] * len(lines)))
    else:
        dedented = textwrap.dedent(text)
        if dedented != text:
            indent = _common_indent(lines)
            attempts = [(dedented, [indent] * len(lines))]
    return attempts


def _common_indent(lines: list[str]) -> int:
    widths = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    return min(widths, default=0)


def _syntax_failure(error: SyntaxError, positions: Positions) -> ExpressionSyntaxError:
    message = error.msg or "invalid syntax"
    if isinstance(error, IndentationError):
        message = f"{message} (transform lines must start at the same indentation)"
    elif message == "invalid syntax":
        message = "invalid syntax: this is not a valid expression"
    return ExpressionSyntaxError(f"cannot parse: {message}", positions.syntax_span(error))


class _Checker:
    """Collects subset violations without recursion (trees may be deep)."""

    def __init__(self, positions: Positions, mode: Mode) -> None:
        self.positions = positions
        self.mode = mode
        self.issues: list[ExpressionSyntaxError] = []

    def check(self, tree: ast.AST) -> list[ExpressionSyntaxError]:
        allowed = _EXPRESSION_NODES + (_STATEMENT_NODES if self.mode == "transform" else ())
        stack: list[tuple[ast.AST, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self._fatal(node, f"nested more than {MAX_DEPTH} levels deep", "nesting")
                break
            construct = _UNSUPPORTED.get(type(node))
            if construct is not None:
                self._unsupported(node, construct)
                continue
            if not isinstance(node, allowed):
                name = type(node).__name__
                if isinstance(node, ast.stmt):
                    self._unsupported(node, f"{name} statement")
                else:
                    self._fatal(node, f"'{name}' is not allowed here", name)
                continue
            self._check_node(node)
            stack.extend((child, depth + 1) for child in reversed(list(ast.iter_child_nodes(node))))
        self.issues.sort(key=lambda issue: issue.span)
        return self.issues

    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name) and _is_dunder(node.id):
            self._fatal(
                node, f"name '{node.id}' is not allowed (names with __ are private)", "dunder name"
            )
        elif isinstance(node, ast.Attribute) and _is_dunder(node.attr):
            self._fatal(
                node,
                f"'.{node.attr}' is not allowed: only keys of a mapping and a few "
                "methods can be read",
                "dunder attribute",
            )
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif isinstance(node, ast.Starred) and not isinstance(node.ctx, ast.Load):
            self._unsupported(node, "starred assignment")
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                self._unsupported(node, "async comprehension")
            self._check_binding(node.target, "comprehension variable")
        elif isinstance(node, ast.For):
            self._check_binding(node.target, "loop variable")
            if node.orelse:
                self._unsupported(node.orelse[0], "for ... else")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._check_target(target, allow_tuple=True)
        elif isinstance(node, ast.AugAssign):
            self._check_target(node.target, allow_tuple=False)

    def _check_call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg is None:
                self._unsupported(keyword, "** arguments")
        func = node.func
        if isinstance(func, ast.Name):
            return
        if isinstance(func, ast.Attribute) and not _is_dunder(func.attr):
            if func.attr in MUTATING_METHODS:
                if self.mode != "transform":
                    self._unsupported(
                        func,
                        f".{func.attr}() changes a value in place; only transforms may do that",
                        f".{func.attr}()",
                    )
                elif _path_root(func.value) is None:
                    self._unsupported(
                        func,
                        f".{func.attr}() needs a state key or a path to one, "
                        "such as items.append(x)",
                        f".{func.attr}()",
                    )
            elif func.attr not in ALL_METHODS:
                allowed = ", ".join(sorted(ALL_METHODS))
                self._unsupported(
                    func,
                    f"method .{func.attr}() is not available (allowed methods: {allowed})",
                    f".{func.attr}()",
                )
            return
        if not isinstance(func, ast.Attribute):
            self._unsupported(func, "only named functions and methods can be called", "call")

    def _check_binding(self, target: ast.expr, what: str) -> None:
        names = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
        for name in names:
            if not isinstance(name, ast.Name):
                self._unsupported(
                    name, f"a {what} must be a name or a tuple of names", "complex loop target"
                )

    def _check_target(self, target: ast.expr, *, allow_tuple: bool) -> None:
        if isinstance(target, ast.Tuple | ast.List) and allow_tuple:
            for element in target.elts:
                if not isinstance(element, ast.Name):
                    self._unsupported(
                        element, "tuple assignment needs plain names", "complex assignment"
                    )
            return
        if isinstance(target, ast.Name):
            return
        root = _path_root(target)
        if root is None:
            self._unsupported(
                target,
                "assignment target must be a state key or a path such as user.name or items[0]",
                "complex assignment",
            )
        elif root == STATE_NAME:
            self._unsupported(
                target,
                "assign to a key directly (x = ...) rather than through ctx",
                "assignment to ctx",
            )

    def _unsupported(self, node: ast.AST, message: str, construct: str | None = None) -> None:
        if construct is None:
            construct = message
            message = f"'{message}' is not supported in workflow expressions; {SUGGESTION}"
        self.issues.append(
            ExpressionSyntaxError(
                message, self.positions.span(node), construct=construct, unsupported=True
            )
        )

    def _fatal(self, node: ast.AST, message: str, construct: str) -> None:
        self.issues.append(
            ExpressionSyntaxError(message, self.positions.span(node), construct=construct)
        )


def _is_dunder(name: str) -> bool:
    return name.startswith("__")


def _path_root(node: ast.expr) -> str | None:
    """The root name of a `a.b[0].c` chain, or None if `node` is not such a chain."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
