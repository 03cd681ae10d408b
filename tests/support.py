"""Helpers shared by every test layer: the corpus location and `# @marker` lines.

Tests never hard-code YAML line numbers: they put `# @name` comments in fixture
text and look the lines up here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = (REPO_ROOT / ".." / "shared").resolve()
CORPUS_DIR = SHARED_DIR / "corpus" / "victor"

_MARKER = re.compile(r"#\s*@([A-Za-z0-9_.-]+)")


def corpus_dir() -> Path:
    """The real Victor corpus; skips the calling test when it is absent."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"corpus not found at {CORPUS_DIR} (../shared is absent in this clone)")
    return CORPUS_DIR


def corpus_files() -> list[Path]:
    """Every corpus YAML file, or [] when the corpus is absent (parametrize-safe)."""
    if not CORPUS_DIR.is_dir():
        return []
    return sorted(CORPUS_DIR.glob("*.yaml"))


def marker_line(text: str, name: str) -> int:
    """0-based line of the `# @name` comment; fails the test if it is missing or repeated."""
    lines = [i for i, line in enumerate(text.splitlines()) if name in _MARKER.findall(line)]
    if len(lines) != 1:
        raise AssertionError(f"marker @{name} found {len(lines)} times, expected once")
    return lines[0]


def marker_lines(text: str) -> dict[str, int]:
    """All markers of a text: name -> 0-based line."""
    found: dict[str, int] = {}
    for i, line in enumerate(text.splitlines()):
        for name in _MARKER.findall(line):
            found[name] = i
    return found
