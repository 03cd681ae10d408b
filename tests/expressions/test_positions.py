"""Positions of syntax errors, issues and references: 0-based code points within the text."""

from __future__ import annotations

import pytest

from engine.expressions import (
    ExpressionSyntaxError,
    check_expression,
    check_transform,
    compile_expression,
    compile_transform,
)


def test_syntax_error_column_on_one_line() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("a > 1 )")
    assert (info.value.line, info.value.column) == (0, 6)
    assert info.value.construct is None


def test_syntax_error_column_counts_code_points_not_bytes() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("naïve_ключ == 'é' )")
    assert info.value.column == len("naïve_ключ == 'é' ")


def test_syntax_error_line_in_multi_line_transform() -> None:
    text = "a = 1\nb = 2\nc = = 3\n"
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_transform(text)
    assert info.value.line == 2
    assert text.splitlines()[2][info.value.column] == "="
    issues = check_transform(text)
    assert len(issues) == 1 and issues[0].severity == "error" and issues[0].line == 2


def test_indentation_error_names_line() -> None:
    issues = check_transform("a = 1\n  b = 2\n")
    assert issues[0].severity == "error" and issues[0].line == 1


def test_unsupported_construct_span_covers_statement() -> None:
    text = "x = 1\nwhile x < 3:\n    x += 1\n"
    (issue,) = check_transform(text)
    assert issue.severity == "warning"
    assert (issue.line, issue.column, issue.end_line) == (1, 0, 2)


def test_dunder_span_is_attribute_expression_with_unicode_prefix() -> None:
    text = "'ü' == ÿ.__class__"
    (issue,) = check_expression(text)
    assert text[issue.column : issue.end_column] == "ÿ.__class__"


def test_runtime_error_span_in_multi_line_expression() -> None:
    text = "a < 3 and\n  b + 1 > 2"
    with pytest.raises(Exception) as info:
        compile_expression(text).evaluate({"a": 1})
    error = info.value
    assert (error.line, error.column, error.end_column) == (1, 2, 7)  # type: ignore[attr-defined]


def test_runtime_error_position_in_transform() -> None:
    text = "a = 1\nb = a + missing\n"
    with pytest.raises(Exception) as info:
        compile_transform(text).execute({})
    error = info.value
    assert error.line == 1  # type: ignore[attr-defined]
    assert text.splitlines()[1][error.column : error.end_column] == "a + missing"  # type: ignore[attr-defined]


def test_dedented_transform_reports_original_columns() -> None:
    text = "  a = 1\n  b = (\n"
    (issue,) = check_transform(text)
    assert issue.severity == "error"
    assert issue.line == 1 and issue.column == 6


def test_valid_texts_have_no_issues() -> None:
    assert check_expression("a.b >= 'medium'") == []
    assert check_transform('status = "completed"\nend_time = current_timestamp()\n') == []
