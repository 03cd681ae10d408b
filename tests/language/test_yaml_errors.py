"""YAML the parsers refuse: every problem at the smallest token, saying what to do.

Each test runs with libyaml and with the pure-Python parser (`parser` fixture),
which word their errors differently; the problems must not.
"""

from __future__ import annotations

import re

import pytest

from engine import compile
from engine.model import Problem
from tests.language.test_line_breaks import editor_lines, editor_marker


def _yaml_problem(text: str) -> Problem:
    problems = [p for p in compile(text, source="/tmp/s.yaml").problems if p.code == "VW001"]
    assert len(problems) == 1, problems
    return problems[0]


CONTROL = ["\x0c", "\x00", "\x1b", "\x7f", "\x0b", "\ud800"]


@pytest.mark.parametrize("char", CONTROL)
def test_a_control_character_is_reported_at_the_character(parser: str, char: str) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n"
        f'      - id: a\n        goal: "\U0001f600 é {char} x"  # @bad\n'
    )
    problems = compile(text, source="/tmp/c.yaml").problems
    assert len(problems) == 1
    problem = problems[0]
    line = editor_marker(text, "bad")
    column = editor_lines(text)[line].index(char)
    assert (problem.span.line, problem.span.column) == (line, column)
    assert (problem.span.end_line, problem.span.end_column) == (line, column + 1)
    assert f"U+{ord(char):04X}" in problem.message
    assert "remove" in problem.message
    assert "<unicode string>" not in problem.message and "position" not in problem.message


SYNTAX_ERRORS = {
    "scanner": 'workflows:\n  w:\n    description: "never closed  # @bad\n',
    "tab": "workflows:\n  w:\n\tnodes: []  # @bad\n",
    "parser": "workflows:\n  - a\n  b: 1  # @bad\n",
    "anchor": "workflows: &a\n  w: &a x\n  v: *b  # @bad\n",
    "directive": "%YAML 9.9  # @bad\n---\na: 1\n",
    "flow": "workflows: {w: [a, b}  # @bad\n",
}


@pytest.mark.parametrize("kind", sorted(SYNTAX_ERRORS))
def test_every_yaml_error_kind_is_located_and_free_of_pyyaml_noise(parser: str, kind: str) -> None:
    text = SYNTAX_ERRORS[kind]
    problems = [p for p in compile(text, source="/tmp/s.yaml").problems if p.code.startswith("VW0")]
    assert problems, f"no YAML problem for {kind}"
    problem = problems[0]
    assert problem.span.line == editor_marker(text, "bad"), problem
    assert "<unicode string>" not in problem.message
    assert not re.search(r"(line|column|position) \d", problem.message), problem.message


def test_a_lone_surrogate_never_raises(parser: str) -> None:
    text = 'workflows:\n  w:\n    nodes:\n      - id: a\n        goal: "x\ud800"\n'
    assert compile(text, source="/tmp/u.yaml").problems


# text (the fault on the @bad line), the text the problem starts at, words of the advice
LOCATED = {
    "unclosed double quote": (
        'workflows:\n  w:\n    description: "never closed  # @bad\n    nodes: []\n',
        '"',
        'add the closing " at its end',
    ),
    "unclosed single quote": (
        "workflows:\n  w:\n    description: 'never  # @bad\n",
        "'",
        "add the closing '",
    ),
    "mismatched bracket": ("workflows: {w: {nodes: [a, b}}  # @bad\n", "}", "]"),
    "unclosed list": ("workflows: {w: {nodes: [a, b  # @bad\n", "[", "]"),
    "unclosed flow map at the end": ("a:\n  - {b: 1  # @bad\n  - c\n", "{", "}"),
    "tab indentation": ("workflows:\n  w:\n\tnodes: []  # @bad\n", "\t", "spaces"),
    "reserved indicator": ("workflows:\n  w:\n    description: @home  # @bad\n", "@", "quotes"),
    "backquote": ("a: `ls`  # @bad\n", "`", "quotes"),
    "colon in a plain value": ("workflows:\n  w:\n    description: a: b  # @bad\n", ":", "quote"),
    "over-indented key": (
        "workflows:\n  w:\n    nodes: []\n      start_node: a  # @bad\n",
        "s",
        "indent",
    ),
    "under-indented key": ("a:\n    b: 1\n  c: 2  # @bad\n", "c", "indent"),
    "missing colon": ('"a": 1\n"b" 2  # @bad\n', '"', "':'"),
    "list item out of line": ("- a\n-b: 1  # @bad\n", "-", "indent"),
    "unknown version": ("%YAML 2.0  # @bad\n---\na: 1\n", "%", "%YAML 1.1"),
}


@pytest.mark.parametrize("case", sorted(LOCATED))
def test_a_syntax_error_is_at_the_token_and_says_what_to_do(parser: str, case: str) -> None:
    text, token, advice = LOCATED[case]
    problem = _yaml_problem(text)
    line = editor_marker(text, "bad")
    found = editor_lines(text)[problem.span.line][problem.span.column :]
    assert (problem.span.line, found[: len(token)]) == (line, token), problem
    assert advice in problem.message, problem.message
    assert "Fix the YAML at this position" not in problem.message
