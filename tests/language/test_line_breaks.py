"""Positions are in editor lines (\\n, \\r\\n, \\r only) whatever characters the text holds.

libyaml and PyYAML also break lines at U+0085, U+2028 and U+2029, and PyYAML
does not count U+FEFF in columns; editors and the LSP do neither. Every test
runs with the C parser and with the pure-Python fallback, which must agree.
"""

from __future__ import annotations

import re

import pytest

from engine import compile
from engine.loader import parse_yaml

_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")


def editor_lines(text: str) -> list[str]:
    """Lines as an LSP client counts them (not str.splitlines, which splits on more)."""
    return _EDITOR_BREAK.split(text)


def editor_marker(text: str, name: str) -> int:
    found = [i for i, line in enumerate(editor_lines(text)) if f"# @{name}" in line]
    assert len(found) == 1, f"marker @{name} found {len(found)} times"
    return found[0]


def _unknown_target(text: str) -> tuple[int, int]:
    found = [p for p in compile(text, source="/tmp/b.yaml").problems if "missing" in p.message]
    assert found, "expected a problem about the unknown target 'missing'"
    return found[0].span.line, found[0].span.column


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\x85"])
def test_a_unicode_line_break_inside_a_string_does_not_shift_later_lines(
    parser: str, brk: str
) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n"
        f'      - id: a\n        goal: "first{brk}second"\n'
        "        next: [missing]  # @next\n"
        "      - id: b\n"
    )
    line = editor_marker(text, "next")
    assert _unknown_target(text) == (line, editor_lines(text)[line].index("missing"))


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\x85"])
def test_a_unicode_line_break_before_the_fault_on_the_same_line_keeps_columns(
    parser: str, brk: str
) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n"
        f'      - {{id: a, goal: "x{brk}y", next: [missing]}}  # @next\n'
        "      - id: b\n"
    )
    line = editor_marker(text, "next")
    assert _unknown_target(text) == (line, editor_lines(text)[line].index("missing"))


def test_a_zero_width_no_break_space_counts_as_a_column(parser: str) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n"
        '      - {id: a, goal: "x\ufeffy", next: [missing]}  # @next\n'
        "      - id: b\n"
    )
    line = editor_marker(text, "next")
    assert _unknown_target(text) == (line, editor_lines(text)[line].index("missing"))


def test_a_leading_byte_order_mark_is_a_column_of_the_text_given(parser: str) -> None:
    text = "\ufeff{workflows: {w: {nodes: [{id: a, next: [missing]}]}}}\n"
    assert _unknown_target(text) == (0, text.index("missing"))


def test_lines_are_editor_lines(parser: str) -> None:
    text = 'a: "x\u2028y\x85z"\r\nb: 1\rc: 2\n'
    parsed = parse_yaml(text, "/tmp/l.yaml")
    assert list(parsed.lines) == ['a: "x\u2028y\x85z"', "b: 1", "c: 2"]
    assert parsed.root is not None
    c_key = parsed.root.entries[2].key  # type: ignore[union-attr]
    assert (c_key.span.line, c_key.span.column) == (2, 0)


def test_a_suppression_comment_after_a_unicode_line_break_still_applies(parser: str) -> None:
    text = (
        "workflows:\n  w:\n    nodes:\n"
        '      - id: a\n        goal: "first\u2028second"\n'
        "        next: [missing]  # victor: disable-line=VW{code}\n"
        "      - id: b\n"
    )
    problems = compile(text.format(code="000"), source="/tmp/b.yaml").problems
    unknown = [p for p in problems if "missing" in p.message]
    assert unknown
    kept = compile(text.format(code=unknown[0].code[2:]), source="/tmp/b.yaml").problems
    assert not any("missing" in p.message for p in kept)
