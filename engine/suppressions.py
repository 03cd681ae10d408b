"""Inline suppression comments: `# victor: disable-next-line=VW601` and friends.

Forms understood (codes are comma separated; no codes means every code):

- `# victor: disable=VW601,VW602` anywhere in the file: drop these codes in the whole file.
- `# victor: disable-next-line=VW101` on its own line: drop them on the next line
  that is neither blank nor a comment.
- `# victor: disable-line=VW101` at the end of a line: drop them on that line.

A problem is matched on the line where its span starts, and only problems whose
`source` is the file being filtered are touched. The LSP and CLI `validate`
both call `apply_suppressions`. Knows nothing of editors or terminals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.loader import editor_lines
from engine.model import Problem

_DIRECTIVE = re.compile(
    r"(?:^|\s)#\s*victor:\s*(?P<kind>disable-next-line|disable-line|disable)\b"
    r"(?:\s*=\s*(?P<codes>[A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*))?"
)

ALL_CODES = "*"


@dataclass(frozen=True)
class Suppressions:
    """The suppression directives of one text."""

    file_codes: frozenset[str] = frozenset()
    line_codes: dict[int, frozenset[str]] = field(default_factory=dict)

    def suppresses(self, code: str, line: int) -> bool:
        if _matches(self.file_codes, code):
            return True
        return _matches(self.line_codes.get(line, frozenset()), code)

    @property
    def empty(self) -> bool:
        return not self.file_codes and not self.line_codes


def _matches(codes: frozenset[str], code: str) -> bool:
    return ALL_CODES in codes or code.upper() in codes


def parse_suppressions(text: str) -> Suppressions:
    """Read every `# victor: disable...` directive of a text."""
    if "victor:" not in text:
        return Suppressions()
    lines = editor_lines(text)  # problems' lines count \n, \r\n and \r only
    file_codes: set[str] = set()
    line_codes: dict[int, set[str]] = {}
    for number, line in enumerate(lines):
        if "victor:" not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        raw = match.group("codes")
        codes = {c.strip().upper() for c in raw.split(",") if c.strip()} if raw else {ALL_CODES}
        kind = match.group("kind")
        if kind == "disable":
            file_codes |= codes
        elif kind == "disable-line":
            line_codes.setdefault(number, set()).update(codes)
        else:
            target = _next_code_line(lines, number)
            if target is not None:
                line_codes.setdefault(target, set()).update(codes)
    return Suppressions(frozenset(file_codes), {k: frozenset(v) for k, v in line_codes.items()})


def _next_code_line(lines: list[str], after: int) -> int | None:
    for number in range(after + 1, len(lines)):
        stripped = lines[number].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def apply_suppressions(problems: Iterable[Problem], text: str, source: str) -> tuple[Problem, ...]:
    """The problems that no directive in `text` (the file `source`) suppresses."""
    problems = tuple(problems)
    suppressions = parse_suppressions(text)
    if suppressions.empty:
        return problems
    return tuple(
        p
        for p in problems
        if p.source != source or not suppressions.suppresses(p.code, p.span.line)
    )
