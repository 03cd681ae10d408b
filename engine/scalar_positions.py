"""Map offsets inside a YAML scalar's value back to source positions.

A condition's syntax error at offset 12 of its value, or a `$ctx.key` inside a
block-scalar goal, must be shown at the right line and column of the file,
whatever the scalar style (plain, quoted, `|` or `>`). The value is aligned
with the source text character by character. Knows nothing of workflows.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence

from engine.model import SourceSpan
from engine.yaml_tree import YScalar


def locate_offsets(
    scalar: YScalar, lines: Sequence[str], offsets: Sequence[int]
) -> list[tuple[int, int]]:
    """Source (line, column) for each value offset (offsets ascending or not)."""
    value = scalar.value if isinstance(scalar.value, str) else str(scalar.value)
    direct = _direct_positions(scalar, lines, value, offsets)
    if direct is not None:
        return direct
    wanted = sorted(set(offsets))
    positions: dict[int, tuple[int, int]] = {}
    line, column = _content_start(scalar, lines)
    end_line = min(scalar.span.end_line, len(lines) - 1)
    want_index = 0
    for index in range(len(value) + 1):
        while want_index < len(wanted) and wanted[want_index] == index:
            positions[wanted[want_index]] = (line, column)
            want_index += 1
        if index == len(value) or want_index >= len(wanted):
            if want_index >= len(wanted):
                break
            continue
        line, column = _advance(value[index], lines, line, column, end_line)
    last = (line, column)
    return [positions.get(offset, last) for offset in offsets]


def locate_spans(
    scalar: YScalar, lines: Sequence[str], pairs: tuple[tuple[int, int], ...]
) -> list[SourceSpan]:
    """The source span of value[start:end] for each (start, end) pair.

    The same positions as `locate_offsets`, built straight into spans: state
    reads of every goal, prompt and condition come through here."""
    value = scalar.value if isinstance(scalar.value, str) else str(scalar.value)
    start = _verbatim_start(scalar, lines, value)
    if start is None:
        spots = locate_offsets(scalar, lines, [s for s, _ in pairs] + [e for _, e in pairs])
        half = len(pairs)
        return [SourceSpan(*spots[i], *spots[half + i]) for i in range(half)]
    line, column = start
    return [
        SourceSpan(line + row, column + col, line + end_row, column + end_col)
        for row, col, end_row, end_col in _relative_positions(value, pairs)
    ]


def text_offset(text: str, line: int, column: int) -> int:
    """Offset of a 0-based (line, column) inside a multi-line value, clamped to its end."""
    start = 0
    for _ in range(line):
        newline = text.find("\n", start)
        if newline == -1:
            return len(text)
        start = newline + 1
    return min(start + column, len(text))


def value_span(scalar: YScalar, lines: Sequence[str], start: int, end: int) -> SourceSpan:
    """The source span of value[start:end]."""
    (line, column), (end_line, end_column) = locate_offsets(scalar, lines, [start, end])
    return SourceSpan(line, column, end_line, end_column)


def _direct_positions(
    scalar: YScalar, lines: Sequence[str], value: str, offsets: Sequence[int]
) -> list[tuple[int, int]] | None:
    """Fast path: the value is written verbatim (one-line scalars, literal blocks)."""
    start = _verbatim_start(scalar, lines, value)
    if start is None:
        return None
    line, column = start
    if "\n" not in value:
        return [(line, column + offset) for offset in offsets]
    starts = _line_starts(value)
    positions = []
    for offset in offsets:
        row = bisect.bisect_right(starts, offset) - 1
        positions.append((line + row, column + offset - starts[row]))
    return positions


def _verbatim_start(scalar: YScalar, lines: Sequence[str], value: str) -> tuple[int, int] | None:
    """Where the value starts when the source holds it verbatim, so that offsets
    map by line starts alone (one-line scalars, literal blocks); else None."""
    line, column = _content_start(scalar, lines)
    if line >= len(lines):
        return None
    if "\n" not in value:
        if scalar.style in ("|", ">") or lines[line][column : column + len(value)] != value:
            return None
        return line, column
    if scalar.style != "|":
        return None
    return line, column


@functools.lru_cache(maxsize=16384)
def _relative_positions(
    value: str, pairs: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int, int, int], ...]:
    """(row, column, end row, end column) of each pair inside a verbatim value.

    Pure in its arguments, so cached: a recompile meets the same texts again."""
    if "\n" not in value:
        return tuple((0, start, 0, end) for start, end in pairs)
    starts = _line_starts(value)
    positions = []
    for start, end in pairs:
        row = bisect.bisect_right(starts, start) - 1
        end_row = bisect.bisect_right(starts, end) - 1
        positions.append((row, start - starts[row], end_row, end - starts[end_row]))
    return tuple(positions)


def _line_starts(value: str) -> list[int]:
    """Offsets where each line of `value` begins (str.find: no per-character loop)."""
    starts = [0]
    newline = value.find("\n")
    while newline != -1:
        starts.append(newline + 1)
        newline = value.find("\n", newline + 1)
    return starts


def _content_start(scalar: YScalar, lines: Sequence[str]) -> tuple[int, int]:
    span = scalar.span
    if scalar.style in ("|", ">"):
        line = span.line + 1
        while line < len(lines) and not lines[line].strip():
            line += 1
        if line >= len(lines):
            return span.line, span.column
        text = lines[line]
        return line, len(text) - len(text.lstrip(" "))
    if scalar.style in ("'", '"'):
        return span.line, span.column + 1
    return span.line, span.column


def _advance(
    char: str, lines: Sequence[str], line: int, column: int, end_line: int
) -> tuple[int, int]:
    """Move past the source character matching `char`, skipping layout."""
    for _ in range(4096):
        if line > end_line or line >= len(lines):
            return line, column
        text = lines[line]
        if column >= len(text):
            if char in "\n ":
                return _next_content(lines, line + 1, end_line)
            line, column = _next_content(lines, line + 1, end_line)
            continue
        if text[column] == char:
            return line, column + 1
        if char == "\n" and text[column] in " \t":
            column += 1
            continue
        column += 1
    return line, column


def _next_content(lines: Sequence[str], line: int, end_line: int) -> tuple[int, int]:
    if line >= len(lines) or line > end_line:
        return line, 0
    text = lines[line]
    return line, len(text) - len(text.lstrip(" "))
