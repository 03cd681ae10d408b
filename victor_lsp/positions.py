"""Engine spans (code points) <-> LSP positions in the negotiated encoding.

One `PositionMap` is built per document version and converts every range of
that version. Lines that are pure ASCII (nearly all YAML) convert for free;
other lines get a prefix table on first use. Knows nothing of workflows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from lsprotocol import types

from engine.model import SourceSpan

_BREAK = re.compile(r"\r\n|\r|\n")
"""LSP line breaks (`str.splitlines` has more)."""


class Encoding(StrEnum):
    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


def _units(char: str, encoding: Encoding) -> int:
    code = ord(char)
    if encoding is Encoding.UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding is Encoding.UTF16:
        return 2 if code >= 0x10000 else 1
    return 1


@dataclass
class PositionMap:
    """Converts positions for one text in one encoding."""

    text: str
    encoding: Encoding
    _lines: list[str] = field(init=False)
    _tables: dict[int, list[int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._lines = _BREAK.split(self.text)

    def _table(self, line: int) -> list[int] | None:
        """Prefix sums of code units per code point, or None when identity."""
        if self.encoding is Encoding.UTF32 or line >= len(self._lines):
            return None
        if line in self._tables:
            return self._tables[line]
        text = self._lines[line]
        if text.isascii():
            return None
        table = [0]
        for char in text:
            table.append(table[-1] + _units(char, self.encoding))
        self._tables[line] = table
        return table

    def position(self, line: int, column: int) -> types.Position:
        """Code point (line, column) -> LSP position."""
        line = max(line, 0)
        table = self._table(line)
        if table is None:
            return types.Position(line=line, character=max(column, 0))
        column = min(max(column, 0), len(table) - 1)
        return types.Position(line=line, character=table[column])

    def range(self, span: SourceSpan) -> types.Range:
        return types.Range(
            start=self.position(span.line, span.column),
            end=self.position(span.end_line, span.end_column),
        )

    def column(self, position: types.Position) -> tuple[int, int]:
        """LSP position -> code point (line, column); clamps to the line."""
        line = position.line
        table = self._table(line)
        if table is None:
            return line, position.character
        for index, units in enumerate(table):
            if units >= position.character:
                return line, index
        return line, len(table) - 1

    def span(self, range_: types.Range) -> SourceSpan:
        start_line, start_col = self.column(range_.start)
        end_line, end_col = self.column(range_.end)
        return SourceSpan(start_line, start_col, end_line, end_col)
