"""Expression semantics: paths, operators, literals, functions, comprehensions, branch keys."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import (
    BUILTIN_FUNCTIONS,
    ExpressionRuntimeError,
    branch_key,
    compile_expression,
)


def ev(text: str, state: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(state or {})


STATE = {
    "approval_result": {"choice": "approved"},
    "health_status": {"healthy": False},
    "retry_count": 10,
    "coverage": 0.8,
    "min_coverage": 0.75,
    "items": [{"id": "a", "score": 3}, {"id": "b", "score": 1}],
    "data": {"k": {"x": 5}, "with space": 1},
    "name": "  Alice ",
    "tests_passed": False,
    "retry_attempts": 2,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approval_result.choice", "approved"),
        ("health_status.healthy or retry_count >= 10", True),
        ("retry_attempts < 3 and not tests_passed", True),
        ("coverage >= min_coverage", True),
        ("coverage < min_coverage", False),
        ("items[0].id", "a"),
        ("items[-1]['score']", 1),
        ("data['k'].x", 5),
        ("data['with space']", 1),
        ("ctx.get('retry_count')", 10),
        ("ctx['coverage']", 0.8),
        ("ctx.retry_count + 1", 11),
        ("'coverage' in locals()", True),
        ("'nope' in locals()", False),
        ("true and not false", True),
        ("null is None and none is None", True),
        ("retry_count in [1, 10, 100]", True),
        ("'x' not in ['a', 'b']", True),
        ("1 < retry_count < 20", True),
        ("1 < retry_count < 5", False),
        ("(retry_count * 2 - 4) // 3 % 5", 0),
        ("2 ** 10", 1024),
        ("-retry_count", -10),
        ("'big' if retry_count > 5 else 'small'", "big"),
        ("[i.id for i in items if i.score > 2]", ["a"]),
        ("{i.id: i.score for i in items}", {"a": 3, "b": 1}),
        ("sum(i.score for i in items)", 4),
        ("sorted(items, key='score')[0].id", "b"),
        ("name.strip().lower()", "alice"),
        ("name.strip().startswith('Al')", True),
        ("','.join(['a', 'b'])", "a,b"),
        ("approval_result.get('choice')", "approved"),
        ("approval_result.get('missing', 7)", 7),
        ("sorted(data.keys())", ["k", "with space"]),
        ("len(items) == 2", True),
        ("max([3, 9, 2]) - min(4, 8)", 5),
        ("any([false, true]) and all([1, 2])", True),
        ("[x * 2 for x in range(3)]", [0, 2, 4]),
        ("[i for i, _ in enumerate('ab')]", [0, 1]),
        ("int('12') + float('0.5') + abs(-1) + round(2.6)", 16.5),
        ("str(5) + 'x'", "5x"),
        ("bool([])", False),
        ("f'{retry_count} tries'", "10 tries"),
        ("f'{coverage:.1%}'", "80.0%"),
        ("merge({'a': 1}, {'b': 2}, null)", {"a": 1, "b": 2}),
        ("merge([1], [2, 3])", [1, 2, 3]),
        ("concat([1], (2,), null)", [1, 2]),
        ("deduplicate([{'t': 1}, {'t': 1}, {'t': 2}], by='t')", [{"t": 1}, {"t": 2}]),
        ("deduplicate([[1], [1], 2])", [[1], 2]),
        # an agent's result is one item, not the list of its keys
        ("deduplicate({'response': 'r', 'tokens': 3})", [{"response": "r", "tokens": 3}]),
        ("items[0:1]", [{"id": "a", "score": 3}]),
        ("[*items, 1][-1]", 1),
        ("list({'a': 1})", ["a"]),
        ("dict(zip(['a'], [1]))", {"a": 1}),
    ],
)
def test_expression_values(text: str, expected: Any) -> None:
    assert ev(text, STATE) == expected


def test_literal_names_win_over_state_keys() -> None:
    assert ev("true", {"true": False}) is True
    assert ev("null", {"null": 1}) is None


def test_boolean_operators_return_operands_like_python() -> None:
    assert ev("a or 'fallback'", {"a": ""}) == "fallback"
    assert ev("a and b and c", {"a": 1, "b": 0, "c": 2}) == 0
    assert ev("a or b or c", {"a": 0, "b": None, "c": 3}) == 3


def test_short_circuit_skips_failing_operand() -> None:
    assert ev("false and (1 / 0)") is False
    with pytest.raises(ExpressionRuntimeError):
        ev("true and (1 / 0)")


def test_registered_functions_are_callable_and_override_nothing_else() -> None:
    double = compile_expression("double(x) + 1", functions={"double": lambda v: v * 2})
    assert double.evaluate({"x": 4}) == 9
    assert "double" not in double.names
    assert double.names == frozenset({"x"})


def test_unknown_function_fails_when_called_with_clear_message() -> None:
    compiled = compile_expression("count_success(x)")
    with pytest.raises(ExpressionRuntimeError, match="unknown function 'count_success'"):
        compiled.evaluate({"x": 1})


def test_current_timestamp_and_elapsed_time() -> None:
    stamp = ev("current_timestamp()")
    assert isinstance(stamp, str) and "T" in stamp
    assert 0 <= ev("elapsed_time(t)", {"t": stamp}) < 60
    assert ev("elapsed_time(10, 25)") == 15


def test_names_lists_root_keys_read() -> None:
    compiled = compile_expression("a.b > c[0] and ctx.get('d') and [x for x in e if x > f]")
    assert compiled.names == frozenset({"a", "c", "d", "e", "f"})
    assert not compiled.reads_all
    assert compile_expression("len(ctx) > 0").reads_all


def test_compilation_is_cached() -> None:
    assert compile_expression("a < 1") is compile_expression("a < 1")


@pytest.mark.parametrize(
    ("value", "key"),
    [(True, "true"), (False, "false"), (None, "none"), ("approved", "approved"), (3, "3")],
)
def test_branch_key(value: Any, key: str) -> None:
    assert branch_key(value) == key


def test_runtime_error_names_expression_and_types() -> None:
    with pytest.raises(ExpressionRuntimeError) as info:
        ev("count + 1", {"count": "3"})
    assert "count + 1" in info.value.message
    assert info.value.column == 0 and info.value.end_column == 9


def test_comparing_incompatible_types_is_an_error_naming_them() -> None:
    with pytest.raises(ExpressionRuntimeError, match="cannot compare str < int"):
        ev("a < 3", {"a": "x"})


def test_builtin_function_names_are_exposed() -> None:
    for name in ("len", "merge", "deduplicate", "current_timestamp", "range", "sorted"):
        assert callable(BUILTIN_FUNCTIONS[name])


def test_methods_outside_whitelist_fail_with_list() -> None:
    with pytest.raises(Exception, match="not available"):
        compile_expression("name.format(1)")


def test_dict_methods_return_lists() -> None:
    assert ev("d.items()", {"d": {"a": 1}}) == [("a", 1)]
    assert ev("d.values()", {"d": {"a": 1}}) == [1]


def test_multiline_expression_from_yaml_block() -> None:
    text = "cleanup_attempts < 3 and\n  cleanup_quality < 0.7\n"
    assert ev(text, {"cleanup_attempts": 1, "cleanup_quality": 0.1}) is True
    assert ev("  retry_count > 1", STATE) is True


def test_min_max_take_key_names() -> None:
    items = {"items": [{"s": 2}, {"s": 5}]}
    assert ev("max(items, key='s')", items) == {"s": 5}
    assert ev("min(items, key='s').s", items) == 2


def test_round_digits_bounded() -> None:
    assert ev("round(2.345, 2)") == 2.35
    with pytest.raises(ExpressionRuntimeError, match="100 digits"):
        ev("round(5, -10**9)")


def test_comprehension_scopes_shadow_and_restore() -> None:
    assert ev("[[x for x in range(x)] for x in [1, 2]]") == [[0], [0, 1]]
    assert ev("[x for x in [1]] + [x]", {"x": "state"}) == [1, "state"]
    assert ev("[(a, b) for a in [1, 2] for b in [a, a * 10] if b > 1]") == [
        (1, 10),
        (2, 2),
        (2, 20),
    ]


def test_non_text_condition_is_a_syntax_error() -> None:
    from engine.expressions import ExpressionSyntaxError

    with pytest.raises(ExpressionSyntaxError, match="expected text"):
        compile_expression(True)  # type: ignore[arg-type]
