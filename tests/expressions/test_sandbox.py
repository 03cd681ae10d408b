"""Sandbox escapes and resource limits: each refused with a clear error, quickly."""

from __future__ import annotations

import pytest

from engine.expressions import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    check_expression,
    compile_expression,
    compile_transform,
)

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize(
    "text",
    [
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "__import__('os')",
        "x.__dict__",
        "x.__class__.__init__.__globals__",
        "__builtins__",
        "f'{x.__class__}'",
        "[c for c in ().__class__.__mro__]",
    ],
)
def test_dunder_access_is_refused_at_compile_time(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(text)
    assert "__" in info.value.message
    assert not info.value.unsupported
    issues = check_expression(text)
    assert issues and issues[0].severity == "error"


@pytest.mark.parametrize(
    "text",
    ["x.items.__self__", "name.upper.__call__()", "getattr(x, 'y')", "eval('1')", "open('f')"],
)
def test_attribute_walks_never_reach_python_objects(text: str) -> None:
    state = {"x": {"items": 1}, "name": "a"}
    with pytest.raises(ExpressionError):
        compile_expression(text).evaluate(state)


def test_attributes_only_read_mapping_keys() -> None:
    assert compile_expression("s.upper").evaluate({"s": {"upper": 5}}) == 5
    with pytest.raises(ExpressionRuntimeError, match="not a mapping"):
        compile_expression("s.upper").evaluate({"s": "text"})
    with pytest.raises(ExpressionRuntimeError, match="not a mapping"):
        compile_expression("n.real").evaluate({"n": 3})


def test_methods_are_dispatched_by_type_only() -> None:
    # `.get` on a list is not a list method: refused, not looked up with getattr.
    with pytest.raises(ExpressionRuntimeError, match=r"no method \.get"):
        compile_expression("xs.get(0)").evaluate({"xs": [1]})


@pytest.mark.parametrize(
    "text",
    [
        "'a' * 10**9",
        "[0] * 10**9",
        "10**10**10",
        "2 ** 100000",
        "1 << 10**9",
        "[[0] * 10**6] * 10**6",
        "'x' * 10**6 + 'y' * 10**6",
        "'%*d' % (10**9, 1)",
        "f'{1:>{10**9}}'",
        "('ab' * 1000).replace('', 'x' * 10**4)",
        "(10**4000) * (10**4000)",
        "range(10**9)",
        "[x for x in range(10**5) for y in range(10**5)]",
        "sum(1 for a in range(10**5) for b in range(10**5))",
        "str([[0] * 10**6] * 100)",
        "','.join(['x' * 10**5] * 100)",
    ],
)
def test_resource_limits_are_enforced(text: str) -> None:
    with pytest.raises(ExpressionRuntimeError) as info:
        compile_expression(text).evaluate({})
    assert info.value.message


def test_transform_loops_are_bounded() -> None:
    text = "n = 0\nfor a in range(100000):\n    for b in range(100000):\n        n += 1"
    with pytest.raises(ExpressionRuntimeError, match="loop iterations"):
        compile_transform(text).execute({})


def test_transform_doubling_is_bounded() -> None:
    text = "s = 'ab'\nfor i in range(100):\n    s = s + s"
    with pytest.raises(ExpressionRuntimeError, match="limit"):
        compile_transform(text).execute({})


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000 + "1" + ")" * 1000,
        "-" * 5000 + "1",
        "not " * 3000 + "x",
        "[" * 1000 + "]" * 1000,
        "a" + ".b" * 5000,
        "+".join(["a"] * 5000),
        "x" * 30_000,
    ],
)
def test_deep_or_huge_text_is_refused_without_crash(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(text)
    assert check_expression(text)[0].severity == "error"


def test_deep_transform_nesting_is_refused() -> None:
    text = "".join("    " * i + "if x:\n" for i in range(120)) + "    " * 120 + "y = 1\n"
    with pytest.raises(ExpressionSyntaxError):
        compile_transform(text)


def test_format_method_is_not_available() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression("'{0.__class__}'.format(x)")


def test_walrus_and_lambda_are_unsupported() -> None:
    for text in ["(y := 1)", "(lambda: 1)()", "[x async for x in y]"]:
        with pytest.raises(ExpressionSyntaxError):
            compile_expression(text)
