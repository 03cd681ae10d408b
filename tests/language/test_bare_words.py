"""State flow on Victor's bare words: `status == done` compares with the text 'done'."""

from __future__ import annotations

import textwrap

from engine import compile
from engine.model import CompileResult, Problem, Severity
from tests.support import marker_line

_WORKFLOW = """\
workflows:
  w:
    nodes:
{writer}      - id: check
        type: condition
        condition: {condition}   # @cond
        branches:
          "true": a
          "false": b
      - id: a
        type: transform
        transform: "x = 1"
        next: [__end__]
      - id: b
        type: transform
        transform: "y = 2"
"""


def _compile(condition: str, writer: str = "") -> tuple[str, CompileResult]:
    text = _WORKFLOW.format(condition=condition, writer=textwrap.indent(writer, "      "))
    return text, compile(text, source="/tmp/wf.yaml")


def _about(result: CompileResult, key: str) -> list[Problem]:
    return [p for p in result.problems if p.code == "VW601" and f"'{key}'" in p.message]


def _token(text: str, problem: Problem) -> str:
    span = problem.span
    assert span.line == span.end_line
    return text.splitlines()[span.line][span.column : span.end_column]


def _apply_fix(text: str, problem: Problem) -> str:
    (edit,) = problem.fixes[0].edits
    lines = text.splitlines(keepends=True)
    line = lines[edit.span.line]
    lines[edit.span.line] = line[: edit.span.column] + edit.new_text + line[edit.span.end_column :]
    return "".join(lines)


def test_unwritten_bare_word_is_a_hint_at_the_word_with_a_quoting_fix() -> None:
    text, result = _compile('"status == done"')
    (hint,) = _about(result, "done")
    assert hint.severity is Severity.HINT
    assert hint.span.line == marker_line(text, "cond") and _token(text, hint) == "done"
    assert "compared as the text 'done'" in hint.message
    assert "never written" not in hint.message
    assert hint.fixes and hint.fixes[0].edits[0].new_text == "'done'"
    fixed = _apply_fix(text, hint)
    assert "condition: \"status == 'done'\"" in fixed
    assert _about(compile(fixed, source="/tmp/wf.yaml"), "done") == []
    # The key on the left is an ordinary read: still the old never-written hint.
    (left,) = _about(result, "status")
    assert "is never written by any node" in left.message and not left.fixes


def test_not_equal_is_a_bare_word_too() -> None:
    text, result = _compile("status != done")
    (hint,) = _about(result, "done")
    assert _token(text, hint) == "done" and "compared as the text 'done'" in hint.message


def test_bare_word_written_by_a_node_is_a_key_to_key_comparison() -> None:
    writer = '- id: pick\n  type: transform\n  transform: "done = 1"\n'
    _, result = _compile('"status == done"', writer)
    assert _about(result, "done") == []


def test_each_word_of_an_in_list_gets_its_own_hint() -> None:
    text, result = _compile('"lang in [python, go]"')
    python = _about(result, "python")
    go = _about(result, "go")
    assert len(python) == 1 and len(go) == 1
    assert _token(text, python[0]) == "python" and _token(text, go[0]) == "go"
    assert python[0].fixes[0].edits[0].new_text == "'python'"
    assert go[0].fixes[0].edits[0].new_text == "'go'"


def test_plain_read_of_a_never_written_key_keeps_the_never_written_hint() -> None:
    _, result = _compile('"count > 3"')
    (hint,) = _about(result, "count")
    assert "state key 'count' is never written by any node" in hint.message
    assert "compared as the text" not in hint.message


def test_ordering_and_membership_in_a_key_are_not_bare_words() -> None:
    _, result = _compile('"level > limit and tag in tags"')
    for key in ("limit", "tags"):
        (hint,) = _about(result, key)
        assert "is never written by any node" in hint.message


def test_fix_inside_a_single_quoted_yaml_scalar_uses_double_quotes() -> None:
    text, result = _compile("'status == done'")
    (hint,) = _about(result, "done")
    assert hint.fixes[0].edits[0].new_text == '"done"'
    fixed = _apply_fix(text, hint)
    assert "condition: 'status == \"done\"'" in fixed
    recompiled = compile(fixed, source="/tmp/wf.yaml")
    assert not [p for p in recompiled.problems if p.severity is Severity.ERROR]
    assert _about(recompiled, "done") == []


def test_declared_input_of_that_name_is_read_quietly() -> None:
    text = _WORKFLOW.format(condition='"status == done"', writer="").replace(
        "  w:\n", "  w:\n    metadata:\n      arguments: [status, done]\n", 1
    )
    result = compile(text, source="/tmp/wf.yaml")
    assert _about(result, "done") == []
