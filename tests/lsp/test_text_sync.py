"""Ranged `didChange` edits land where the client meant them, whatever line
separators the text holds (U+2028, U+0085, form feed... are not LSP line breaks)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from victor_lsp.text_sync import LspLinesDocument, lsp_lines

PIECES = ["a", " ", "\n", "\r\n", "\r", "😀", "開", "é", "\u2028", "\u2029", "\x85", "\x0c", "\x0b"]
_BREAK = re.compile(r"\r\n|\r|\n")


def client_position(text: str, offset: int, encoding: str) -> types.Position:
    """Where an editor puts `offset`: lines end at \\n, \\r\\n, \\r only."""
    before = text[:offset]
    line = len(_BREAK.findall(before))
    starts = [m.end() for m in _BREAK.finditer(before)]
    column_text = before[starts[-1] :] if starts else before
    if encoding == "utf-8":
        return types.Position(line, len(column_text.encode("utf-8")))
    return types.Position(line, len(column_text.encode("utf-16-le")) // 2)


texts = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    text=texts,
    insert=texts,
    bounds=st.tuples(st.integers(0, 100), st.integers(0, 100)),
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_a_ranged_edit_replaces_exactly_its_range(
    text: str, insert: str, bounds: tuple[int, int], encoding: str
) -> None:
    # range ends at code point boundaries that are not inside a \r\n pair
    cuts = [
        i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")
    ]
    start, end = sorted(cuts[b % len(cuts)] for b in bounds)
    document = LspLinesDocument(
        "file:///flow.yaml", text, 1, position_codec=PositionCodec(encoding=encoding)
    )
    edit = types.Range(client_position(text, start, encoding), client_position(text, end, encoding))
    document.apply_change(types.TextDocumentContentChangePartial(range=edit, text=insert))
    assert document.source == text[:start] + insert + text[end:]


def test_lines_break_only_at_lsp_line_breaks() -> None:
    assert lsp_lines("a\u2028b\r\nc\rd\x85e\nf") == ["a\u2028b\r\n", "c\r", "d\x85e\n", "f"]
    assert lsp_lines("") == [] and lsp_lines("x\n") == ["x\n"]
