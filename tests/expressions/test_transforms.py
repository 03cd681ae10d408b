"""Transforms: statements, top-level writes, reads/writes analysis and copy-on-write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.expressions import (
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    check_transform,
    compile_transform,
)


def run(text: str, state: dict[str, Any]) -> dict[str, Any]:
    before = copy.deepcopy(state)
    result = compile_transform(text).execute(state)
    assert state == before, "a transform changed its input state"
    return result


def test_multi_line_assignments_see_earlier_writes() -> None:
    text = 'status = "completed"\nsuccess = test_results.get("failed", 0) == 0\nboth = status + "!"'
    assert run(text, {"test_results": {"failed": 0}}) == {
        "status": "completed",
        "success": True,
        "both": "completed!",
    }


def test_single_assignment_forms() -> None:
    assert run("key = ctx.other", {"other": 3}) == {"key": 3}
    assert run("key = 'literal'", {}) == {"key": "literal"}
    assert run("revision_count = revision_count + 1", {"revision_count": 1}) == {
        "revision_count": 2
    }


def test_if_elif_else_and_for() -> None:
    text = (
        "total = 0\n"
        "for x in values:\n"
        "    if x > 2:\n"
        "        total += x\n"
        "    elif x == 2:\n"
        "        total -= 1\n"
        "    else:\n"
        "        pass\n"
    )
    assert run(text, {"values": [1, 2, 3, 4]}) == {"total": 6}


def test_loop_variables_are_not_written_to_state() -> None:
    result = run("out = []\nfor item in items:\n    out.append(item * 2)", {"items": [1, 2]})
    assert result == {"out": [2, 4]}


def test_tuple_unpacking() -> None:
    assert run("a, b = 1, 2", {}) == {"a": 1, "b": 2}
    assert run("s = 0\nfor i, v in enumerate(xs):\n    s += i * v", {"xs": [5, 6]}) == {"s": 6}


def test_append_copies_state_list_instead_of_mutating() -> None:
    shared = [1, 2]
    state = {"log": shared}
    result = run("log.append(3)", state)
    assert result == {"log": [1, 2, 3]}
    assert shared == [1, 2]
    assert result["log"] is not shared


def test_nested_item_assignment_copies_along_the_path() -> None:
    inner = {"name": "a", "tags": ["x"]}
    state = {"user": {"profile": inner, "other": {"k": 1}}}
    result = run("user.profile.name = 'b'\nuser['profile']['tags'].extend(['y'])", state)
    assert result["user"]["profile"] == {"name": "b", "tags": ["x", "y"]}
    assert inner == {"name": "a", "tags": ["x"]}
    # untouched branches stay shared (structural sharing)
    assert result["user"]["other"] is state["user"]["other"]


def test_augmented_item_assignment_and_missing_intermediate_created() -> None:
    state = {"counts": {"a": 1}}
    assert run("counts['a'] += 2\ncounts.b = 5", state) == {"counts": {"a": 3, "b": 5}}
    assert run("summary.total = 1", {}) == {"summary": {"total": 1}}


def test_list_index_assignment() -> None:
    state = {"xs": [1, 2, 3]}
    assert run("xs[-1] = 9", state) == {"xs": [1, 2, 9]}
    with pytest.raises(ExpressionRuntimeError, match=r"out of range"):
        compile_transform("xs[5] = 1").execute(state)


def test_second_mutation_reuses_owned_copy() -> None:
    result = run("xs.append(1)\nxs.append(2)\nys = xs\nys.append(3)", {"xs": []})
    assert result["xs"] == [1, 2, 3] and result["ys"] is result["xs"]


def test_append_on_missing_key_is_clear_error() -> None:
    with pytest.raises(ExpressionRuntimeError, match="'log' is not set"):
        compile_transform("log.append(1)").execute({})


def test_mutating_a_loop_variable_is_refused() -> None:
    with pytest.raises(ExpressionSyntaxError, match="loop variable"):
        compile_transform("for item in items:\n    item.done = true")


def test_reads_and_writes() -> None:
    compiled = compile_transform(
        "a = b + 1\nc = a * 2\nif flag:\n    d = 1\nelse:\n    d = 2\ne = d\n"
        "for x in xs:\n    f = g\n    g = 1\nlog.append(h)\nuser.name = n"
    )
    assert compiled.writes == frozenset({"a", "c", "d", "e", "f", "g", "log", "user"})
    assert compiled.reads == frozenset({"b", "flag", "xs", "g", "log", "h", "user", "n"})


def test_corpus_chunk_loop_transform_runs() -> None:
    text = (
        "chunk_metadata = []\n"
        "for chunk in chunks:\n"
        "  metadata = {\n"
        '    "entities": entities.get(chunk.id, []),\n'
        '    "source_file": chunk.source,\n'
        "  }\n"
        "  chunk_metadata.append((chunk, metadata))\n"
    )
    state = {"chunks": [{"id": 1, "source": "a.md"}], "entities": {1: ["E"]}}
    result = run(text, state)
    assert result["chunk_metadata"] == [
        ({"id": 1, "source": "a.md"}, {"entities": ["E"], "source_file": "a.md"})
    ]


def test_registered_function_in_transform() -> None:
    compiled = compile_transform(
        "n = count_success(results)",
        functions={"count_success": lambda rs: sum(1 for r in rs if r["ok"])},
    )
    assert compiled.execute({"results": [{"ok": True}, {"ok": False}]}) == {"n": 1}


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("def f():\n    return 1", "def"),
        ("import os", "import"),
        ("while x:\n    x = 0", "while"),
        ("class A:\n    pass", "class"),
        ("try:\n    x = 1\nexcept Exception:\n    pass", "try"),
        ("f = lambda v: v", "lambda"),
        ("with a as b:\n    pass", "with"),
        ("global x", "global"),
    ],
)
def test_unsupported_constructs_warn_and_refuse_to_run(text: str, construct: str) -> None:
    issues = check_transform(text)
    assert issues and issues[0].severity == "warning"
    assert issues[0].construct == construct
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_transform(text)
    assert info.value.construct == construct
    assert construct in info.value.message
    assert "registered transform" in info.value.message


def test_check_reports_every_unsupported_construct() -> None:
    issues = check_transform("x = 1\nimport os\nwhile x:\n    x = 0\ndef f():\n    pass")
    assert [issue.construct for issue in issues] == ["import", "while", "def"]
    assert [issue.line for issue in issues] == [1, 2, 4]


def test_append_in_condition_is_unsupported() -> None:
    with pytest.raises(ExpressionSyntaxError, match="only transforms"):
        from engine.expressions import compile_expression

        compile_expression("log.append(1)")


def test_ctx_as_value_is_a_copy() -> None:
    state = {"a": 1}
    result = run("snapshot = ctx\nb = 2", state)
    assert result["snapshot"] == {"a": 1}


def test_indented_block_is_dedented() -> None:
    assert run("    a = 1\n    b = a + 1\n", {}) == {"a": 1, "b": 2}


def test_lines_without_effect_warn() -> None:
    issues = check_transform("a = 1\nmerge_results\n")
    assert [(issue.severity, issue.construct, issue.line) for issue in issues] == [
        ("warning", "no effect", 1)
    ]
    assert check_transform("merge_code_analysis") == []


def test_unknown_functions_warn_only_when_registry_names_given() -> None:
    text = "n = count_success(xs)"
    assert check_transform(text) == []
    (issue,) = check_transform(text, functions=["other"])
    assert issue.severity == "warning" and issue.construct == "unknown function"
    assert text[issue.column : issue.end_column] == "count_success"
    assert check_transform(text, functions=["count_success"]) == []
