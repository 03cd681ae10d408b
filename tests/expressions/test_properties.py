"""Property tests: arbitrary text never makes compile or check raise anything unexpected."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expressions import (
    ExpressionError,
    check_expression,
    check_transform,
    compile_expression,
    compile_transform,
    reference_spans,
)

_TOKENS = st.sampled_from(
    [
        "a",
        "b.c",
        "x[0]",
        "'s'",
        "1",
        "2.5",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ":",
        ",",
        " and ",
        " or ",
        " not ",
        "+",
        "*",
        "**",
        "<",
        "==",
        " in ",
        " if ",
        " else ",
        " for ",
        "=",
        "\n",
        "    ",
        "len(",
        "ctx.",
        "__class__",
        ".get(",
        "true",
        "null",
        "é",
        "lambda",
        "def ",
        "while ",
        "import ",
        "'",
        '"',
        "#",
        "\\",
        "f'{",
        "}'",
        ".append(",
        "%",
        "-",
    ]
)
_SOURCE = st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=25).map("".join))
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_SOURCE)
def test_compile_raises_only_expression_errors(text: str) -> None:
    for compile_ in (compile_expression, compile_transform):
        try:
            compiled = compile_(text)
        except ExpressionError:
            continue
        try:
            if compile_ is compile_expression:
                compiled.evaluate({"a": 1, "b": {"c": [1]}, "x": [3]})  # type: ignore[union-attr]
            else:
                compiled.execute({"a": 1, "b": {"c": [1]}, "x": [3]})  # type: ignore[union-attr]
        except ExpressionError:
            pass


@_SETTINGS
@given(_SOURCE)
def test_check_and_references_never_raise(text: str) -> None:
    for issue in check_expression(text) + check_transform(text):
        assert issue.severity in {"error", "warning"}
        assert 0 <= issue.line <= issue.end_line
        assert issue.column >= 0
    lines = text.split("\n")
    for _root, _path, line, column, end_line, end_column in reference_spans(text):
        assert 0 <= line <= end_line < len(lines) + 1
        assert column >= 0 and end_column >= 0
