"""Reading a user's file: what editors show is what positions count."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.text_files import UnreadableFileError, read_text_file


def test_a_utf8_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    # Editors hide the BOM, so columns on the first line must not count it.
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfworkflows: {w: {nodes: [{id: a, next: [missing]}]}}\n")
    assert read_text_file(path).startswith("workflows:")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_byte_that_is_not_utf8_is_located_whatever_the_line_breaks(
    tmp_path: Path, newline: str
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(newline.join(["a: 1", "b: 2", "c: caf\xe9"]).encode("latin-1"))
    with pytest.raises(UnreadableFileError) as raised:
        read_text_file(path)
    assert (raised.value.line, raised.value.column) == (2, 6)
    assert "line 3 column 7" in raised.value.reason
