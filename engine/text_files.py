"""Read a user's text file (workflow, context, answers, victor.toml) as UTF-8.

One reader so every adapter says the same thing about a file it cannot use:
a folder, a missing or unreadable file, binary data, or text that is not UTF-8
(with the line and column of the first bad byte). Knows nothing of what the
text means.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
"""Line breaks as editors count them."""


class UnreadableFileError(Exception):
    """`str(error)` says why the file cannot be used and what to do, without the path.

    `line` / `column` (0-based) point at the first byte that is not UTF-8, else 0.
    """

    def __init__(self, reason: str, line: int = 0, column: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


_OS_REASONS = {
    errno.ENOENT: "no such file; check the path",
    errno.EISDIR: "it is a folder, not a file; give the path of a file",
    errno.EACCES: "permission denied; make the file readable (chmod u+r) or run as its owner",
    errno.EPERM: "permission denied; make the file readable (chmod u+r) or run as its owner",
}


def read_text_file(path: str | Path) -> str:
    """The file's text; raises UnreadableFileError with a one-line reason."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = _OS_REASONS.get(exc.errno or 0)
        raise UnreadableFileError(reason or f"{exc.strerror or exc}; check the path") from exc
    if b"\x00" in data:
        raise UnreadableFileError("it holds binary data, not text; give a UTF-8 text file")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]  # an encoding mark editors hide: not a column of line 1
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        breaks = list(_LINE_BREAK.finditer(before))
        line = len(breaks)
        line_start = breaks[-1].end() if breaks else 0
        column = len(before[line_start:].decode("utf-8", errors="replace"))
        raise UnreadableFileError(
            f"line {line + 1} column {column + 1} is not UTF-8 text "
            f"(byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line,
            column,
        ) from exc
