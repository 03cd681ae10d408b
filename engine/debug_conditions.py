"""Breakpoint conditions, hit conditions and logpoint messages for the debugger.

Pure functions over the workflow state and the expression language
(`engine.expressions`): parse a hit condition such as `>= 3` or `% 2`, compile
a condition string, interpolate `{expr}` in a logpoint message, and turn what an
editor hovers (`$ctx.user.name`, `{{key}}`) into an expression. Knows nothing of
DAP, terminals or the executor.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.debug_variables import preview

StateCondition = Callable[[Mapping[str, Any]], Any]

_HIT = re.compile(r"^\s*(?P<op>>=|<=|==|!=|>|<|%)?\s*(?P<n>\d+)\s*$")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}


class ConditionError(ValueError):
    """A breakpoint condition, hit condition or logpoint that cannot be used."""


@dataclass(frozen=True, slots=True)
class HitCondition:
    """`3` / `== 3` (exactly the 3rd hit), `>= 3`, `% 2` (every 2nd hit) ..."""

    op: str
    count: int
    text: str

    def matches(self, hits: int) -> bool:
        if self.op == "%":
            return hits % self.count == 0
        return _OPS[self.op](hits, self.count)


def parse_hit_condition(text: str) -> HitCondition:
    """Parse a hit condition; raises ConditionError saying what is accepted."""
    match = _HIT.match(text)
    if match is None:
        raise ConditionError(
            f"hit condition {text!r} is not understood; use a count such as `3`, "
            "`>= 3`, `> 3`, `< 3`, `== 3` or `% 2` (every 2nd hit)"
        )
    op = match.group("op") or "=="
    count = int(match.group("n"))
    if op == "%" and count == 0:
        raise ConditionError("hit condition `% 0` divides by zero; use `% 1` or more")
    return HitCondition(op, count, text.strip())


def compile_condition(condition: str | StateCondition) -> StateCondition:
    """A callable taking the state; strings go through the expression language.

    Raises ConditionError with the expression's own message on a syntax error.
    """
    if callable(condition):
        return condition
    from engine.expressions import compile_expression

    try:
        compiled = compile_expression(condition)
    except Exception as exc:  # the expression package raises its own syntax errors
        raise ConditionError(f"condition {condition!r}: {exc}") from exc
    return compiled.evaluate


def evaluate_expression(text: str, state: Mapping[str, Any]) -> Any:
    """Evaluate one expression of the expression language against the state."""
    from engine.expressions import compile_expression

    return compile_expression(text).evaluate(state)


_PLAIN_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_EXPRESSION_WORDS = frozenset({"None", "True", "False", "and", "or", "not", "in", "is", "if"})
_STRUCTURED_START = ("{", "[", "(", '"', "'")


def parse_typed_value(text: str, state: Mapping[str, Any]) -> Any:
    """A value a person typed in a debugger (set a variable, `set PATH=VALUE`).

    JSON first (`5`, `"a b"`, `{"k": 1}`); then a plain name or dotted path
    that exists in the state reads it, and one that does not is the word
    itself (`alice` sets the text "alice", not null); then an expression over
    the state (`count + 1`, `'x'.upper()`); text that is not an expression is
    taken as is (`hello world`). Raises ConditionError for text that starts
    like JSON, a list or a quoted string but does not parse, for empty text,
    and for an expression that fails: guessing there would store a wrong value.
    """
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    if _PLAIN_PATH.match(stripped) and stripped not in _EXPRESSION_WORDS:
        from engine.expressions import get_path

        try:
            return get_path(state, stripped)
        except (KeyError, IndexError):
            return stripped
    from engine.expressions import compile_expression

    try:
        compiled = compile_expression(stripped)
    except Exception as exc:
        if stripped and not stripped.startswith(_STRUCTURED_START):
            return text.strip()
        raise ConditionError(
            f'cannot read {text!r} as a value ({exc}); type JSON (5, "text", [1, 2], '
            '{"key": 1}), an expression over the state, or plain words'
        ) from exc
    try:
        return compiled.evaluate(state)
    except Exception as exc:
        raise ConditionError(f"cannot compute {text!r}: {exc}") from exc


_LOG_PART = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


def interpolate_log_message(message: str, state: Mapping[str, Any]) -> str:
    """Replace each `{expr}` with its value; `{{`/`}}` are literal braces.

    A value reads as in the Variables view (`null`, `true`, `['a', null]`),
    except that text at the top level is printed as it is, as editors print
    logpoints. An expression that fails shows its error inline, as debugpy
    does, so that a logpoint never stops the run.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        try:
            value = evaluate_expression(match.group(1).strip(), state)
        except Exception as exc:
            return f"<error: {exc}>"
        return value if isinstance(value, str) else preview(value)

    return _LOG_PART.sub(replace, message)


_HOVER_FORMS = (
    re.compile(r"^\{\{\s*(.+?)\s*\}\}$"),
    re.compile(r"^\$\{\s*(.+?)\s*\}$"),
    re.compile(r"^\$ctx\.(.+)$"),
)


def hover_expression(text: str) -> str:
    """What to evaluate for a hovered token: strips `$ctx.`, `{{ }}` and `${ }`."""
    stripped = text.strip()
    for form in _HOVER_FORMS:
        match = form.match(stripped)
        if match:
            return match.group(1).strip()
    return stripped
